// The floor for (b): BullMQ itself on the same Redis, at the same rate and fan-out, in the hub's
// shape: a job on a "plan-changes" queue (worker concurrency 4) whose processor adds one job per
// recipient to that recipient's own "deliveries-<n>" queue (worker concurrency 1 each), all
// workers sharing one connection as the hub's do, with the hub's job options (attempts, backoff,
// completed jobs kept). Processors do no work. Measured: enqueue -> plan-changes job start (one
// hop), and enqueue -> delivery job start (two hops, what a delivery in the hub also goes through).
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { sleep, summarize, waitFor } from './stats.mjs';

const JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 3600 },
  removeOnFail: false,
};

export async function bullmqBaseline({ redisUrl, prefix, rate, fanout, count }) {
  const producer = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const planQueue = new Queue('plan-changes', {
    connection: producer,
    prefix,
    defaultJobOptions: JOB_OPTIONS,
  });
  const deliveryQueues = Array.from(
    { length: fanout },
    (_, i) =>
      new Queue(`deliveries-${i + 1}`, { connection: producer, prefix, defaultJobOptions: JOB_OPTIONS }),
  );
  const oneHop = [];
  const twoHops = [];
  const workers = [
    new Worker(
      'plan-changes',
      async (job) => {
        oneHop.push(performance.now() - job.data.t);
        for (const q of deliveryQueues) {
          await q.add('deliver', { t: job.data.t }, { jobId: `${job.id}.${q.name}` });
        }
      },
      { connection: workerConnection, prefix, concurrency: 4 },
    ),
    ...deliveryQueues.map(
      (q) =>
        new Worker(
          q.name,
          async (job) => {
            twoHops.push(performance.now() - job.data.t);
          },
          { connection: workerConnection, prefix, concurrency: 1 },
        ),
    ),
  ];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // Job ids unique to this cell: the queues (and their completed jobs) outlive it, and BullMQ
  // ignores an add whose job id it already has.
  const cell = `${rate}x${fanout}.${Date.now()}`;
  const t0 = performance.now() + 50;
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) {
      await sleep(wait);
    }
    await planQueue.add('record-plan-change', { t: performance.now() }, { jobId: `change.${cell}.${i}` });
  }
  await waitFor(() => twoHops.length >= count * fanout, {
    timeoutMs: 60000,
    intervalMs: 50,
    what: 'BullMQ baseline',
  });
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all([planQueue, ...deliveryQueues].map((q) => q.close()));
  producer.disconnect();
  workerConnection.disconnect();
  return {
    rate,
    fanout,
    messages: count,
    enqueueToStartOneHopMs: summarize(oneHop),
    enqueueToStartTwoHopsMs: summarize(twoHops),
  };
}
