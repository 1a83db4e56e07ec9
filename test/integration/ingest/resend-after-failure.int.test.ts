/**
 * Issue 15, item 3: a record whose job failed for good (retries spent in a long FHIR outage, or
 * refused) is taken up again when the sender resends it, and a plan version whose job failed is
 * taken up again when a capture sees it again. BullMQ ignores an add for an id it holds in any
 * state, so before this both were swallowed and answered "accepted" for ever. Real Redis and
 * BullMQ; the jobs are failed by hand (a worker without a processor), so no timing is involved.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { enqueueIngest, INGEST_QUEUE, type IngestJobData } from '../../../src/ingest/ingest.queue.js';
import { enqueuePlanChange, PLAN_CHANGES_QUEUE } from '../../../src/routing/plan-changes.queue.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testRedis } from '../../support/test-env.js';
import { queueKeyPrefix } from '../../../src/queues/queue-factory.js';

describe('a resend after the job failed for good', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const closers: Array<() => Promise<void>> = [];

  afterAll(async () => {
    for (const close of closers) {
      await close();
    }
    redis.disconnect();
    await dropPrefix(prefix);
  });

  /** A queue, and a way to fail its next job for good as a worker would after its last attempt. */
  function queueWithManualWorker(name: string): { queue: Queue; failNext: () => Promise<string> } {
    const keys = queueKeyPrefix(prefix, name, redis.isCluster);
    const queue = new Queue(name, { connection: redis, prefix: keys });
    const connection = redis.duplicate();
    const worker = new Worker(name, null, { connection, prefix: keys });
    closers.push(async () => {
      await worker.close();
      await queue.close();
      connection.disconnect(); // BullMQ leaves a connection it was given open
    });
    return {
      queue,
      failNext: async () => {
        const token = randomUUID();
        const job = await worker.getNextJob(token);
        await job.moveToFailed(new UnrecoverableError('FHIR down longer than the retry budget'), token, true);
        return job.id!;
      },
    };
  }

  it('takes a resent record up again', async () => {
    const { queue, failNext } = queueWithManualWorker(INGEST_QUEUE);
    const data: IngestJobData = {
      partnerId: 'northside-bh',
      format: 'hl7v2-adt',
      sourceId: 'MSG-1',
      location: 'message 1',
      receivedAt: '2026-12-01T10:00:00Z',
      record: { controlId: 'MSG-1' },
    };
    const jobId = await enqueueIngest(queue as never, data);
    expect(await failNext()).toBe(jobId);
    expect(await (await queue.getJob(jobId))!.getState()).toBe('failed');
    await enqueueIngest(queue as never, data);
    expect(await (await queue.getJob(jobId))!.getState()).toBe('waiting');
  });

  it('takes a failed plan version up again when it is captured again', async () => {
    const { queue, failNext } = queueWithManualWorker(PLAN_CHANGES_QUEUE);
    const data = { carePlanId: '42', version: '3', detectedBy: 'catch-up' as const };
    await enqueuePlanChange(queue as never, data);
    expect(await failNext()).toBe('careplan.42.3');
    await enqueuePlanChange(queue as never, data);
    expect(await (await queue.getJob('careplan.42.3'))!.getState()).toBe('waiting');
  });
});
