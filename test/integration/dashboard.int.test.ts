import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createLogger } from '../../src/logging/logger.js';
import { startHub, type RunningHub } from '../../src/startup/start-hub.js';
import { testConfig } from '../support/test-env.js';

const TOKEN = 'x';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('queue dashboard at /admin/queues (real Redis and HAPI)', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startHub(testConfig({ ADMIN_TOKEN: TOKEN }), createLogger('silent'));
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('answers 401 with an OperationOutcome without the token, also for the other admin routes', async () => {
    for (const path of [
      '/admin/queues',
      '/admin/queues/api/queues',
      '/admin/dead-letters',
      '/admin/rejected',
    ]) {
      const res = await request(hub.url).get(path);
      expect(res.status).toBe(401);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await request(hub.url).get('/admin/queues').set('authorization', 'Bearer y')).status).toBe(401);
  });

  it('serves the dashboard page and its assets with the token', async () => {
    const page = await request(hub.url).get('/admin/queues').set(auth);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    // The page loads its scripts relative to <base href>, i.e. from under /admin/queues/.
    expect(page.text).toContain('<base href="/admin/queues/" />');
    const script = /<script defer src="(static\/js\/main\.[^"]+)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = `/admin/queues/${script!}`;
    expect((await request(hub.url).get(asset).set(auth)).status).toBe(200);
    expect((await request(hub.url).get(asset)).status).toBe(401);
  });

  it("lists every hub queue in the dashboard's API, read-only", async () => {
    const res = await request(hub.url).get('/admin/queues/api/queues').set(auth);
    expect(res.status).toBe(200);
    const queues = (res.body as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
    const names = queues.map((q) => q.name);
    expect(names).toContain('ingest');
    expect(names).toEqual(
      expect.arrayContaining([
        'plan-changes',
        'acknowledgments',
        'escalations',
        ...[...hub.queues.deliveries.keys()].map((id) => `deliveries-${id}`),
      ]),
    );
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);

    // Changing a queue from the dashboard is refused (replays go through /admin/dead-letters).
    const pause = await request(hub.url).put('/admin/queues/api/queues/ingest/pause').set(auth);
    expect(pause.status).toBe(405);
    expect(await hub.queues.ingest.isPaused()).toBe(false);
  });
});
