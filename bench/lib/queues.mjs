// Read-only views of the hub's BullMQ queues on the bench prefix (counts, job timings), waiting
// until the hub is idle, and deleting the prefix's keys afterwards.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sleep } from './stats.mjs';

/** Queues whose delayed jobs are timers hours ahead (deadlines, obligation checks), not backlog. */
const TIMER_QUEUES = new Set(['acknowledgments', 'coordination']);

export class HubQueues {
  constructor(redisUrl, prefix, partnerIds) {
    this.prefix = prefix;
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.names = [
      'ingest',
      'plan-changes',
      'plan-records',
      ...partnerIds.map((id) => `deliveries-${id}`),
      'disclosures',
      'acknowledgments',
      'escalations',
      'coordination',
    ];
    this.queues = new Map(this.names.map((n) => [n, new Queue(n, { connection: this.redis, prefix })]));
  }

  queue(name) {
    return this.queues.get(name);
  }

  async counts() {
    const entries = await Promise.all(
      this.names.map(async (n) => [
        n,
        await this.queues
          .get(n)
          .getJobCounts(
            'waiting',
            'active',
            'delayed',
            'prioritized',
            'completed',
            'failed',
            'waiting-children',
          ),
      ]),
    );
    return Object.fromEntries(entries);
  }

  /** Nothing waiting or running anywhere (delayed timers of deadlines and obligations excepted). */
  async idle() {
    const counts = await this.counts();
    return Object.entries(counts).every(
      ([name, c]) =>
        c.waiting + c.active + c.prioritized + c['waiting-children'] === 0 &&
        (TIMER_QUEUES.has(name) || c.delayed === 0),
    );
  }

  /** Waits until idle (checked twice in a row); returns how long it took, or -1 on timeout. */
  async waitIdle(timeoutMs = 180000) {
    const start = Date.now();
    let streak = 0;
    while (Date.now() - start < timeoutMs) {
      streak = (await this.idle()) ? streak + 1 : 0;
      if (streak >= 2) {
        return Date.now() - start;
      }
      await sleep(200);
    }
    return -1;
  }

  /** Completed and failed jobs of a queue with their timings. */
  async jobs(name, types = ['completed', 'failed']) {
    const queue = this.queues.get(name);
    const jobs = await queue.getJobs(types, 0, -1, true);
    return jobs.filter(Boolean);
  }

  async close() {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }
}

/** Deletes every key under `prefix` (only a bench prefix, `{bench-...}`). Returns how many. */
export async function dropPrefix(redisUrl, prefix) {
  if (!prefix.startsWith('{bench-')) {
    throw new Error(`refusing to delete the keys of ${prefix}`);
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        deleted += await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
