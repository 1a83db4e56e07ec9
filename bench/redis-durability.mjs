// What each Redis persistence mode costs the hub's accept path, and what a host crash can lose.
//
// Starts two Redis servers of its own on loopback (append-only file with `appendfsync always`,
// and with `everysec`, what docker-compose.yml ships), and on each adds BullMQ jobs the way the
// hub accepts records (one `add` per record, several senders at once). Reports jobs accepted per
// second and, for `everysec`, how many accepted jobs one second of un-synced writes holds: what a
// power loss or kernel panic of the Redis host can take. See test/faults/README.md.
//
//   node bench/redis-durability.mjs [jobs=4000] [senders=8]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const jobs = Number(process.argv[2] ?? 4000);
const senders = Number(process.argv[3] ?? 8);

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(fsync) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-redis-${fsync}-`));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'],
    { stdio: 'ignore' },
  );
  child.stdin?.end();
  for (let i = 0; ; i++) {
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      break;
    } catch (err) {
      if (i > 50) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
  const redis = new Redis({ port, maxRetriesPerRequest: null });
  await redis.config('SET', 'appendfsync', fsync);
  return {
    redis,
    stop: () => {
      redis.disconnect();
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(fsync) {
  const { redis, stop } = await startRedis(fsync);
  const queue = new Queue('durability', { connection: redis, prefix: '{bench}' });
  try {
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next < jobs) {
          const n = next++;
          await queue.add('record', { n, body: 'x'.repeat(600) }, { jobId: `r${n}` });
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { fsync, jobsPerSecond: Math.round(jobs / seconds) };
  } finally {
    await queue.close();
    stop();
  }
}

const always = await measure('always');
const everysec = await measure('everysec');
console.log(`BullMQ adds, ${jobs} jobs from ${senders} senders, Redis AOF on this machine's disk:`);
for (const r of [always, everysec]) {
  console.log(`  appendfsync ${r.fsync.padEnd(8)} ${String(r.jobsPerSecond).padStart(6)} jobs/s`);
}
console.log(
  `everysec: a host crash can lose what was accepted in the last second or so (two if a sync was ` +
    `slow): at this Redis's ceiling up to ${everysec.jobsPerSecond}-${2 * everysec.jobsPerSecond} ` +
    `jobs; at the hub's own ingest rate (see bench/results/latest.md), as many records as it accepts ` +
    `in one to two seconds. Each was answered 202 or AA.`,
);
