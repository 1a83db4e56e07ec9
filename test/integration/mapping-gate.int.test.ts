import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadPartners } from '../../src/config/partners.js';
import { TrafficRecorder } from '../../src/ingest/traffic-recorder.js';
import { createRedisConnection } from '../../src/queues/connection.js';
import { redisTarget, redisUrl, REPO_ROOT, unique } from '../support/test-env.js';

const run = promisify(execFile);
const HEADER = 'VisitID,MedicaidID,ServiceCode,ScheduledStart,ScheduledEnd,ActualStart,ActualEnd,VisitStatus';

/** `npm run hub -- mapping diff|activate|rollback`, run as a process against real Redis. */
describe('hub CLI: mapping release gate', () => {
  it('diffs recorded traffic through a candidate file, activates it and rolls back', async () => {
    const prefix = `{mg-${unique('t').slice(-8)}}`;
    const redis = createRedisConnection(redisTarget(), 'producer');
    await redis.connect();
    const dir = await mkdtemp(path.join(tmpdir(), 'mapping-gate-'));
    try {
      const recorder = new TrafficRecorder(redis, prefix, 5);
      await recorder.record(
        'sunrise-hcbs',
        'evv-csv',
        Buffer.from(
          [
            HEADER,
            'V-1,QX7781234,T1019,2025-03-03T09:00,2025-03-03T11:00,2025-03-03T09:04,2025-03-03T11:02,COMPLETED',
            'V-2,QX7781234,T1019,2025-03-04T09:00,2025-03-04T11:00,,,NS',
          ].join('\r\n'),
        ),
      );
      await recorder.record(
        'sunrise-hcbs',
        'evv-csv',
        Buffer.from(`${HEADER}\nV-3,QX7781234,T1019,2025-03-05T09:00,2025-03-05T11:00,,,CXL\n`),
      );
      expect(await redis.llen(recorder.key('sunrise-hcbs'))).toBe(2);

      const original = await readFile(path.join(REPO_ROOT, 'config/partners/sunrise-hcbs.yaml'), 'utf8');
      await writeFile(
        path.join(dir, 'sunrise-hcbs.yaml'),
        original.replace(/^id: /m, 'mappingVersion: "1"\nid: '),
      );
      const candidate = path.join(dir, 'candidate.yaml.txt');
      await writeFile(
        candidate,
        original.replace(/^id: /m, 'mappingVersion: "2"\nid: ').replace('NS: missed', 'NS: cancelled'),
      );

      const cli = (...args: string[]) =>
        run(process.execPath, [path.join(REPO_ROOT, 'dist/cli/hub.js'), 'mapping', ...args], {
          cwd: REPO_ROOT,
          env: { ...process.env, QUEUE_PREFIX: prefix, REDIS_URL: redisUrl(), PARTNER_CONFIG_DIR: dir },
        });

      const diff = await cli('diff', '--partner', 'sunrise-hcbs', '--candidate', candidate).then(
        () => undefined,
        (err: { code: number; stdout: string }) => err,
      );
      expect(diff?.code).toBe(1);
      expect(diff?.stdout).toContain(
        'mappingVersion 1 (current) -> 2 (candidate); 2 recorded batch(es), 3 record(s)',
      );
      expect(diff?.stdout).toMatch(/batch 1 .*V-3.*: unchanged/);
      expect(diff?.stdout).toMatch(/batch 2 .*V-1.*: unchanged/);
      expect(diff?.stdout).toMatch(/batch 2 .*V-2.*: CHANGED\n {3}[~+-] /);

      // Only the newest batch (V-3, unaffected): nothing differs.
      const newest = await cli('diff', '-p', 'sunrise-hcbs', '-c', candidate, '--limit', '1');
      expect(newest.stdout).toContain('1 record(s): 1 unchanged');
      await expect(cli('diff', '--partner', 'sunrise-hcbs')).rejects.toMatchObject({ code: 2 });

      const activated = await cli('activate', '--partner', 'sunrise-hcbs', '--candidate', candidate);
      expect(activated.stdout).toContain('mappingVersion 2 is active');
      expect(await readFile(path.join(dir, 'sunrise-hcbs.yaml'), 'utf8')).toContain('NS: cancelled');
      expect(await readFile(path.join(dir, '.versions/sunrise-hcbs.1.yaml'), 'utf8')).toContain('NS: missed');
      // The kept versions are not partner files to the hub.
      expect((await loadPartners(dir)).all().map((p) => [p.id, p.mappingVersion])).toEqual([
        ['sunrise-hcbs', '2'],
      ]);
      // The same version again is refused.
      await expect(cli('activate', '-p', 'sunrise-hcbs', '-c', candidate)).rejects.toMatchObject({ code: 2 });

      const rolledBack = await cli('rollback', '--partner', 'sunrise-hcbs', '--to', '1');
      expect(rolledBack.stdout).toContain('rolled back to mappingVersion 1');
      expect(await readFile(path.join(dir, 'sunrise-hcbs.yaml'), 'utf8')).toContain('NS: missed');
      expect((await readdir(path.join(dir, '.versions'))).sort()).toEqual([
        'sunrise-hcbs.1.yaml',
        'sunrise-hcbs.2.yaml',
      ]);
      await expect(cli('rollback', '-p', 'sunrise-hcbs', '--to', '7')).rejects.toMatchObject({ code: 2 });
    } finally {
      await redis.del(`${prefix}:traffic:sunrise-hcbs`);
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
