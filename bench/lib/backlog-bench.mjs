// (e) A backlog of queued deliveries: what 100,000 of them cost the hub's memory and Redis's.
// Jobs shaped as the hub's own (DeliveryRequest), delayed an hour so they stay queued, are added
// to one partner's delivery queue on the bench prefix; the hub keeps running (metrics, alerts,
// schedulers) while its RSS is sampled; then the jobs are removed.
import { randomUUID } from 'node:crypto';
import { sleep } from './stats.mjs';

const CHUNK = 1000;

async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * @param {{ redis: import('ioredis').Redis, queue: import('bullmq').Queue, partnerId: string,
 *   count: number, hub: { ask: (m: object) => Promise<any> }, sampleSeconds: number,
 *   progress: (s: string) => void }} o
 */
export async function backlogBench(o) {
  const rssOf = async () => (await o.hub.ask({ type: 'mem' })).rss;
  const before = { redisBytes: await usedMemory(o.redis), hubRss: await rssOf() };
  const started = Date.now();
  for (let added = 0; added < o.count; added += CHUNK) {
    const jobs = Array.from({ length: Math.min(CHUNK, o.count - added) }, () => {
      const carePlanId = randomUUID();
      return {
        name: 'deliver-plan-change',
        data: {
          partnerId: o.partnerId,
          carePlanId,
          version: '1',
          notice: `Communication/${randomUUID()}`,
          patient: `Patient/${randomUUID()}`,
          altersDelivery: true,
        },
        opts: { jobId: `delivery.${o.partnerId}.${carePlanId}.1`, delay: 3_600_000, attempts: 10 },
      };
    });
    await o.queue.addBulk(jobs);
  }
  const addMs = Date.now() - started;
  const redisBytes = await usedMemory(o.redis);
  o.progress(`(e) ${o.count} deliveries queued in ${addMs} ms; sampling the hub for ${o.sampleSeconds} s`);
  const rss = [];
  for (let i = 0; i < o.sampleSeconds; i++) {
    rss.push(await rssOf());
    await sleep(1000);
  }
  await o.queue.drain(true);
  return {
    count: o.count,
    addMs,
    redisBytesPerJob: Math.round((redisBytes - before.redisBytes) / o.count),
    redisMiB: (redisBytes - before.redisBytes) / 2 ** 20,
    hubRssBefore: before.hubRss,
    hubRssMax: Math.max(...rss),
    hubRssMedian: [...rss].sort((a, b) => a - b)[Math.floor(rss.length / 2)],
  };
}
