import { describe, expect, it } from '@jest/globals';
import { UnrecoverableError, Worker } from 'bullmq';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadPartners } from '../../src/config/partners.js';
import { createRedisConnection } from '../../src/queues/connection.js';
import { createQueues, closeQueues } from '../../src/startup/queues.js';
import { ESCALATIONS_QUEUE, enqueueEscalation } from '../../src/coordination/escalations.queue.js';
import { redisTarget, redisUrl, REPO_ROOT, unique } from '../support/test-env.js';
import { queueKeyPrefix } from '../../src/queues/queue-factory.js';

const run = promisify(execFile);

/** The dead-letter commands of `npm run hub`, run as a process against real Redis. */
describe('hub CLI: dead letters', () => {
  it('lists, shows and replays a failed job', async () => {
    const prefix = `{cli-${unique('t').slice(-8)}}`;
    const redis = createRedisConnection(redisTarget(), 'worker');
    await redis.connect();
    const queues = createQueues(redis, prefix, await loadPartners(path.join(REPO_ROOT, 'config/partners')));
    const worker = new Worker(
      ESCALATIONS_QUEUE,
      async () => {
        throw new UnrecoverableError('tier chair unknown');
      },
      { connection: redis, prefix: queueKeyPrefix(prefix, ESCALATIONS_QUEUE, redis.isCluster) },
    );
    const focus = `Task/${unique('t')}`;
    await enqueueEscalation(queues.escalations, {
      trigger: 'missed-acknowledgment',
      patient: 'Patient/1',
      focus,
      detail: 'x',
      at: new Date(),
    });
    const jobId = `escalate.missed-acknowledgment.${focus.replace(/\//g, '-')}`;
    await waitFor(async () => (await queues.escalations.getJob(jobId))?.failedReason !== undefined);
    await worker.close();

    const cli = (...args: string[]) =>
      run(process.execPath, [path.join(REPO_ROOT, 'dist/cli/hub.js'), 'dead-letters', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, QUEUE_PREFIX: prefix, REDIS_URL: redisUrl(), PARTNER_CONFIG_DIR: '' },
      });
    const listed = JSON.parse((await cli('list', 'escalations')).stdout) as Array<{
      jobId: string;
      failedReason: string;
    }>;
    expect(listed).toEqual([expect.objectContaining({ jobId, failedReason: 'tier chair unknown' })]);
    const shown = JSON.parse((await cli('show', 'escalations', jobId)).stdout) as { attemptsMade: number };
    expect(shown.attemptsMade).toBe(1);
    expect(JSON.parse((await cli('replay', 'escalations', jobId)).stdout)).toEqual({
      replayed: `escalations/${jobId}`,
    });
    expect(await queues.escalations.getJob(jobId).then((j) => j?.getState())).toBe('waiting');
    await expect(cli('show', 'nope', 'x')).rejects.toMatchObject({ code: 2 });

    await queues.escalations.obliterate({ force: true });
    await closeQueues([], queues);
    redis.disconnect();
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met');
}
