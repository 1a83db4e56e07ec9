/**
 * Issue 15, item 3: a record whose job failed for good (retries spent in a long FHIR outage, or
 * refused) is applied when the sender resends it, and a plan version whose job failed is taken up
 * again when a capture sees it again. BullMQ ignores an add for an id it holds in any state, so
 * before this both were swallowed and answered "accepted" for ever. Real Redis and BullMQ.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { enqueueIngest, INGEST_QUEUE, type IngestJobData } from '../../../src/queues/ingest.queue.js';
import { enqueuePlanChange, PLAN_CHANGES_QUEUE } from '../../../src/queues/plan-changes.queue.js';
import { dropPrefix, eventually, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { redisUrl } from '../../support/test-env.js';

describe('a resend after the job failed for good', () => {
  const prefix = testPrefix();
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const closers: Array<() => Promise<void>> = [];

  afterAll(async () => {
    for (const close of closers) {
      await close();
    }
    redis.disconnect();
    await dropPrefix(prefix);
  });

  /** A queue whose worker fails every job the first time it sees it and completes it the next. */
  async function flakyQueue(name: string): Promise<{ queue: Queue; runs: Map<string, number> }> {
    const queue = new Queue(name, { connection: redis, prefix });
    const runs = new Map<string, number>();
    const worker = new Worker(
      name,
      async (job) => {
        const n = (runs.get(job.id!) ?? 0) + 1;
        runs.set(job.id!, n);
        if (n === 1) {
          throw new UnrecoverableError('the FHIR server was down for longer than the retry budget');
        }
        return 'applied';
      },
      { connection: redis.duplicate(), prefix },
    );
    closers.push(async () => {
      await worker.close();
      await queue.close();
    });
    await worker.waitUntilReady();
    return { queue, runs };
  }

  it('applies a resent record', async () => {
    const { queue, runs } = await flakyQueue(INGEST_QUEUE);
    const data: IngestJobData = {
      partnerId: 'northside-bh',
      format: 'hl7v2-adt',
      sourceId: 'MSG-1',
      location: 'message 1',
      receivedAt: '2026-12-01T10:00:00Z',
      record: { controlId: 'MSG-1' },
    };
    const jobId = await enqueueIngest(queue as never, data);
    await eventually(async () => (await queue.getJob(jobId))?.isFailed());
    await enqueueIngest(queue as never, data);
    await eventually(async () => (await queue.getJob(jobId))?.isCompleted());
    expect(runs.get(jobId)).toBe(2);
  });

  it('takes a failed plan version up again when it is captured again', async () => {
    const { queue, runs } = await flakyQueue(PLAN_CHANGES_QUEUE);
    const data = { carePlanId: '42', version: '3', detectedBy: 'catch-up' as const };
    await enqueuePlanChange(queue as never, data);
    await eventually(async () => (await queue.getJob('careplan.42.3'))?.isFailed());
    await enqueuePlanChange(queue as never, data);
    await eventually(async () => (await queue.getJob('careplan.42.3'))?.isCompleted());
    expect(runs.get('careplan.42.3')).toBe(2);
  });
});
