import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLogger } from '../../src/logging/logger.js';
import { checkRedis } from '../../src/queues/connection.js';
import { startHub } from '../../src/startup/start-hub.js';
import { dropPrefix, eventually, testPrefix } from '../fixtures/ingest/hub-helpers.js';
import { newPerson, servicePlan } from '../fixtures/ingest/samples.js';
import { QueueEvents } from 'bullmq';
import { MAINTENANCE_QUEUE } from '../../src/queues/maintenance.queue.js';
import { fhirBaseUrl, freePort, redisUrl, REPO_ROOT, testConfig } from '../support/test-env.js';
import { RedisServer } from '../faults/processes.js';

const logger = createLogger('silent');

describe('startHub', () => {
  it('starts against real HAPI and Redis, reports both ready, and closes', async () => {
    const hub = await startHub(testConfig(), logger);
    try {
      const res = await request(hub.url).get('/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'ready',
        dependencies: {
          startup: { status: 'up' },
          fhir: { status: 'up' },
          // How Redis keeps the queues: this machine's Redis keeps nothing on disk.
          redis: { status: 'up', persistence: expect.stringMatching(/^(aof|rdb|none)/) },
        },
      });
      // the profiles are on the server after start-up
      const sd = await hub.fhir.read('StructureDefinition', 'hub-task');
      expect(sd.id).toBe('hub-task');
    } finally {
      await hub.close();
    }
  });

  it('runs its periodic work once per deployment: two replicas share one set of job schedulers', async () => {
    const prefix = testPrefix();
    const first = await startHub(testConfig({ QUEUE_PREFIX: prefix }), logger);
    const second = await startHub(testConfig({ QUEUE_PREFIX: prefix }), logger);
    try {
      const schedulers = await second.queues.maintenance.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual([
        'acknowledgment-sweep',
        'alerts',
        'history-catch-up',
        'roster-catch-up',
        'roster-rebuild',
        'task-feed',
      ]);
      // The Task feed is due every 2 s: in 7 s it runs about 4 times, not 4 times per replica.
      const events = new QueueEvents(MAINTENANCE_QUEUE, { connection: { url: redisUrl() }, prefix });
      let runs = 0;
      events.on('completed', ({ jobId }) => {
        runs += jobId.startsWith('repeat:task-feed:') ? 1 : 0;
      });
      await events.waitUntilReady();
      await new Promise((r) => setTimeout(r, 7000));
      await events.close();
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(runs).toBeLessThanOrEqual(5);
    } finally {
      await first.close();
      await second.close();
      await dropPrefix(prefix);
    }
  });

  it('runs as front ends and workers apart: the front takes records, a worker applies them', async () => {
    const prefix = testPrefix();
    const front = await startHub(testConfig({ QUEUE_PREFIX: prefix, HUB_ROLE: 'front' }), logger);
    let worker: Awaited<ReturnType<typeof startHub>> | undefined;
    try {
      const plan = servicePlan(newPerson());
      const taken = await request(front.url)
        .post('/ingest/sunrise-hcbs/service-plan')
        .set('content-type', 'application/json')
        .send(JSON.stringify(plan));
      expect(taken.status).toBe(202);
      // No worker yet: the record waits in its queue, taken and kept.
      await new Promise((r) => setTimeout(r, 1500));
      await expect(front.queues.ingest.getJobCounts('waiting', 'completed')).resolves.toEqual({
        waiting: 1,
        completed: 0,
      });
      worker = await startHub(
        testConfig({ QUEUE_PREFIX: prefix, HUB_ROLE: 'worker', HUB_PUBLIC_URL: front.url }),
        logger,
      );
      await eventually(async () => (await front.queues.ingest.getCompletedCount()) === 1, 30000, 'applied');
      // A worker has no door: health and readiness only, and no MLLP listener.
      expect((await request(worker.url).get('/ready')).status).toBe(200);
      expect((await request(worker.url).post('/ingest/sunrise-hcbs/service-plan').send('{}')).status).toBe(
        404,
      );
      expect(worker.mllpPort).toBe(0);
    } finally {
      await worker?.close();
      await front.close();
      await dropPrefix(prefix);
    }
  });

  it('stops without holding a waiting request or its keep-alive connection: it answers what it has', async () => {
    const prefix = testPrefix();
    // A front end applies nothing, so a request waiting for its record would wait its full minute.
    const front = await startHub(testConfig({ QUEUE_PREFIX: prefix, HUB_ROLE: 'front' }), logger);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const { port } = new URL(front.url);
      const answer = new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            port,
            agent,
            method: 'POST',
            path: '/ingest/sunrise-hcbs/service-plan?wait=60',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
            );
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(servicePlan(newPerson())));
      });
      await eventually(async () => (await front.queues.ingest.getWaitingCount()) === 1, 10000, 'queued');
      const closed = front.close();
      const res = await answer;
      // Taken and kept: the answer says so, and the connection is not kept open for another request.
      expect(res.status).toBe(202);
      expect(res.body).toMatch(/accepted/i);
      expect(res.connection).toBe('close');
      await closed;
    } finally {
      agent.destroy();
      await front.close();
      await dropPrefix(prefix);
    }
  }, 30000);

  it('refuses a worker without HUB_PUBLIC_URL, naming it', () => {
    expect(() => testConfig({ HUB_ROLE: 'worker' })).toThrow(/HUB_PUBLIC_URL/);
  });

  it('fails fast with a bad REDIS_URL, naming it', async () => {
    const started = Date.now();
    await expect(startHub(testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), logger)).rejects.toThrow(
      /Redis is not reachable at REDIS_URL=redis:\/\/127\.0\.0\.1:1/,
    );
    expect(Date.now() - started).toBeLessThan(10000);
  });

  it('refuses a single Redis server named as a cluster, naming REDIS_URL', async () => {
    await expect(checkRedis({ url: redisUrl(), cluster: true })).rejects.toThrow(
      new RegExp(`Redis is not reachable at REDIS_URL=${redisUrl().replace(/[./]/g, '\\$&')}`),
    );
  });

  it('refuses to start on a partner file whose code table translates to a code the hub does not know', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'partners-'));
    try {
      for (const file of await readdir(path.join(REPO_ROOT, 'config/partners'))) {
        await cp(path.join(REPO_ROOT, 'config/partners', file), path.join(dir, file));
      }
      const sunrise = path.join(dir, 'sunrise-hcbs.yaml');
      await writeFile(sunrise, (await readFile(sunrise, 'utf8')).replace('NS: missed', 'NS: mised'));
      await expect(startHub(testConfig({ PARTNER_CONFIG_DIR: dir }), logger)).rejects.toThrow(
        /sunrise-hcbs\.yaml: \/codeTranslations\/visitStatus\/NS "mised" is not one of completed, missed/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails fast when the FHIR server at FHIR_BASE_URL is unreachable, naming it', async () => {
    await expect(startHub(testConfig({ FHIR_BASE_URL: 'http://127.0.0.1:1/fhir' }), logger)).rejects.toThrow(
      /FHIR server is not reachable at FHIR_BASE_URL=http:\/\/127\.0\.0\.1:1\/fhir/,
    );
  });
});

/** The built hub (`dist/main.js`, what `npm start` runs) as a real process. */
describe('hub process', () => {
  const main = path.join(REPO_ROOT, 'dist', 'main.js');

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [main], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        FHIR_BASE_URL: fhirBaseUrl(),
        REDIS_URL: redisUrl(),
        MLLP_PORT: '0',
        LOG_LEVEL: 'info',
        REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN: 'true',
        ...env,
      },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { child, exited, output: () => ({ stderr, stdout }) };
  }

  it('serves /ready, logs JSON, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const hub = run({ PORT: String(port) });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200, 60000);
    } finally {
      hub.child.kill('SIGTERM');
    }
    expect(await hub.exited).toBe(0);
    const lines = hub
      .output()
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['hub started', 'shutdown complete']));
  });

  it('exits 1 naming the variable when configuration is wrong or Redis is unreachable', async () => {
    const badPort = run({ PORT: 'eighty' });
    expect(await badPort.exited).toBe(1);
    expect(badPort.output().stderr).toMatch(/PORT="eighty" must be a whole number/);

    const badRedis = run({ PORT: '0', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await badRedis.exited).toBe(1);
    expect(badRedis.output().stderr).toMatch(/REDIS_URL=redis:\/\/127\.0\.0\.1:1/);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

describe('Redis that may evict', () => {
  it('refuses to start on a Redis whose maxmemory-policy is not noeviction, naming the setting', async () => {
    const port = await freePort();
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      { stdio: 'ignore' },
    );
    try {
      await eventually(async () => {
        await checkRedis({ url: `redis://127.0.0.1:${port}`, cluster: false }).catch((err: Error) => {
          if (/not reachable/.test(err.message)) {
            throw err;
          }
        });
        return true;
      });
      await expect(checkRedis({ url: `redis://127.0.0.1:${port}`, cluster: false })).rejects.toThrow(
        /maxmemory-policy allkeys-lru; the hub needs noeviction/,
      );
    } finally {
      server.kill();
    }
  });
});

describe('Redis away', () => {
  it('answers 503 with Retry-After while Redis is away, naming it, and takes records again once it is back', async () => {
    const redis = new RedisServer(await freePort());
    await redis.start();
    let running = true;
    const hub = await startHub(testConfig({ REDIS_URL: redis.url }), logger);
    const send = () =>
      request(hub.url)
        .post('/ingest/sunrise-hcbs/service-plan')
        .set('content-type', 'application/json')
        .timeout(15000)
        .send(JSON.stringify(servicePlan(newPerson())));
    try {
      await redis.kill();
      running = false;
      const away = await send();
      expect(away.status).toBe(503);
      expect(away.headers['retry-after']).toBe('5');
      expect(away.body.issue[0]).toMatchObject({
        code: 'transient',
        diagnostics: expect.stringMatching(/Redis.*not reachable.*send again/i) as unknown,
      });
      await redis.start();
      running = true;
      await eventually(async () => (await send()).status === 202, 20000, 'taken again');
    } finally {
      // A hub closes its queues on Redis: it must be back first.
      if (!running) {
        await redis.start();
      }
      await hub.close();
      await redis.stop();
    }
  });
});
