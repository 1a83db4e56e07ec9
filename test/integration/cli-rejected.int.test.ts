import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RejectedStore } from '../../src/ingest/rejected-store.js';
import { createRedisConnection } from '../../src/queues/connection.js';
import { goldenInput } from '../support/golden.js';
import { redisTarget, redisUrl, REPO_ROOT, unique } from '../support/test-env.js';

const run = promisify(execFile);

/** The rejected-record commands of `npm run hub`, run as a process against real Redis. */
describe('hub CLI: rejected records', () => {
  it('lists, shows, replays a corrected record, and discards', async () => {
    const prefix = `{cli-${unique('r').slice(-8)}}`;
    const redis = createRedisConnection(redisTarget(), 'producer');
    await redis.connect();
    const store = new RejectedStore(redis, prefix);
    const stored = await store.add({
      partnerId: 'northside-bh',
      format: 'hl7v2-adt',
      location: 'message 1',
      issues: [{ field: 'PID-3', message: 'no identifier' }],
      raw: 'MSH|^~\\&|EHR|NORTHSIDE|HUB|HUB|20261120101500||ADT^A01|X1|P|2.5\rPID|1\r',
      stage: 'parse',
      rejectedAt: new Date().toISOString(),
    });
    const other = await store.add({ ...stored, location: 'message 2' });

    const cli = (...args: string[]) =>
      run(process.execPath, [path.join(REPO_ROOT, 'dist/cli/hub.js'), 'rejected', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, QUEUE_PREFIX: prefix, REDIS_URL: redisUrl() },
      });
    const listed = JSON.parse((await cli('list', 'northside-bh')).stdout) as Array<{ id: string }>;
    expect(listed.map((r) => r.id).sort()).toEqual([stored.id, other.id].sort());
    expect(JSON.parse((await cli('show', stored.id)).stdout)).toMatchObject({ issues: [{ field: 'PID-3' }] });

    const dir = mkdtempSync(path.join(tmpdir(), 'rejected-'));
    const fixed = path.join(dir, 'fixed.hl7');
    writeFileSync(fixed, goldenInput('hl7v2', 'a01-admit.input.hl7'));
    const replayed = JSON.parse((await cli('replay', stored.id, fixed)).stdout) as {
      issue: Array<{ diagnostics: string }>;
    };
    expect(replayed.issue[0]!.diagnostics).toMatch(/accepted \(job /);
    expect(await store.get(stored.id)).toBeUndefined();

    expect(JSON.parse((await cli('discard', other.id)).stdout)).toEqual({ discarded: true });
    expect(await store.list()).toEqual([]);
    await expect(cli('show', 'nope')).rejects.toMatchObject({ code: 1 });

    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    redis.disconnect();
  });
});
