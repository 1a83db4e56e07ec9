import { describe, expect, it } from '@jest/globals';
import express, { type Express, type RequestHandler } from 'express';
import request from 'supertest';
import { loadConfig } from '../../../src/config/load-config.js';
import { createApp } from '../../../src/http/create-app.js';
import { adminAuth, isLoopback } from '../../../src/http/middleware/admin-auth.js';
import { createLogger } from '../../../src/logging/logger.js';

const TOKEN = 's3cr3t-admin-token';
const logger = createLogger('silent');

/** Makes the app see the request as coming from `address` (supertest always connects over loopback). */
function peer(address: string): RequestHandler {
  return (req, _res, next) => {
    Object.defineProperty(req.socket, 'remoteAddress', { value: address, configurable: true });
    next();
  };
}

/** The guard mounted as create-app mounts it, in front of a stand-in admin route and a public one. */
function appWith(token: string | undefined, from?: string): Express {
  const app = express();
  if (from) {
    app.use(peer(from));
  }
  app.use('/admin', adminAuth({ token }));
  app.get('/admin/dead-letters', (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/admin/dead-letters/q/1/replay', (_req, res) => {
    res.json({ replayed: true });
  });
  app.get('/administrators', (_req, res) => {
    res.json({ public: true });
  });
  return app;
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('adminAuth with ADMIN_TOKEN set', () => {
  const app = appWith(TOKEN, '203.0.113.9');

  it('lets a request with the Bearer token through, from anywhere', async () => {
    const res = await request(app).get('/admin/dead-letters').set('authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    const replay = await request(app)
      .post('/admin/dead-letters/q/1/replay')
      .set('authorization', `bearer ${TOKEN}`);
    expect(replay.status).toBe(200);
  });

  it('answers 401 with an OperationOutcome and a WWW-Authenticate challenge without a token', async () => {
    const res = await request(app).get('/admin/dead-letters');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="hub-admin"/);
    expect(res.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'login',
          diagnostics: 'The admin endpoints need Authorization: Bearer <ADMIN_TOKEN>',
        },
      ],
    });
  });

  it.each([
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['an empty token', 'Bearer '],
    ['another scheme', `Token ${TOKEN}`],
    ['the token without a scheme', TOKEN],
    ['extra words', `Bearer ${TOKEN} ${TOKEN}`],
  ])('refuses %s', async (_what, authorization) => {
    const res = await request(app).get('/admin/dead-letters').set('authorization', authorization);
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('login');
  });

  it('does not let loopback clients in without the token', async () => {
    const res = await request(appWith(TOKEN)).get('/admin/dead-letters');
    expect(res.status).toBe(401);
  });

  it('accepts the token as the HTTP Basic password for reads (a browser opening the dashboard)', async () => {
    const res = await request(app).get('/admin/dead-letters').set('authorization', basic('engineer', TOKEN));
    expect(res.status).toBe(200);
    expect(
      (await request(app).get('/admin/dead-letters').set('authorization', basic('x', 'nope'))).status,
    ).toBe(401);
  });

  it('does not accept Basic for changes: a browser cannot be made to replay by another site', async () => {
    const res = await request(app)
      .post('/admin/dead-letters/q/1/replay')
      .set('authorization', basic('engineer', TOKEN));
    expect(res.status).toBe(401);
  });

  it('guards the /admin prefix in any letter case, and only that prefix', async () => {
    expect((await request(app).get('/ADMIN/dead-letters')).status).toBe(401);
    expect((await request(app).get('/admin')).status).toBe(401);
    expect((await request(app).get('/administrators')).status).toBe(200);
  });
});

describe('adminAuth without ADMIN_TOKEN', () => {
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.0.0.2'])(
    'serves a loopback client (%s)',
    async (from) => {
      const res = await request(appWith(undefined, from)).get('/admin/dead-letters');
      expect(res.status).toBe(200);
    },
  );

  it('serves a real loopback connection (supertest connects over loopback)', async () => {
    expect((await request(appWith(undefined)).get('/admin/dead-letters')).status).toBe(200);
    expect((await request(appWith('')).post('/admin/dead-letters/q/1/replay')).status).toBe(200);
  });

  it.each(['203.0.113.9', '10.0.0.5', '::ffff:192.168.1.20', '2001:db8::1', 'fe80::1'])(
    'refuses a client elsewhere (%s) with 403 and an OperationOutcome',
    async (from) => {
      const res = await request(appWith(undefined, from)).get('/admin/dead-letters');
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0]).toMatchObject({ severity: 'error', code: 'forbidden' });
      expect(res.body.issue[0].diagnostics).toMatch(/ADMIN_TOKEN/);
    },
  );

  it('refuses a loopback connection that a proxy forwards for someone else', async () => {
    const app = appWith(undefined, '127.0.0.1');
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const res = await request(app).get('/admin/dead-letters').set(header, '203.0.113.9');
      expect(res.status).toBe(403);
    }
  });

  it('does not let a token through instead: the loopback rule still applies', async () => {
    const res = await request(appWith(undefined, '203.0.113.9'))
      .get('/admin/dead-letters')
      .set('authorization', 'Bearer anything');
    expect(res.status).toBe(403);
  });

  it('leaves routes outside /admin alone', async () => {
    expect((await request(appWith(undefined, '203.0.113.9')).get('/administrators')).status).toBe(200);
  });
});

describe('isLoopback', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(
      ['0.0.0.0', '::', '128.0.0.1', '::ffff:10.0.0.1', '1127.0.0.1', '', undefined].map(isLoopback),
    ).toEqual([false, false, false, false, false, false, false]);
  });
});

describe('createApp mounts the guard before every admin route', () => {
  it('guards the dashboard and the routes under /admin, and leaves /health open', async () => {
    const app = createApp({ logger, checks: {}, adminToken: TOKEN, dashboard: [] });
    expect((await request(app).get('/admin/queues')).status).toBe(401);
    expect((await request(app).get('/admin/dead-letters')).status).toBe(401);
    expect((await request(app).get('/admin/rejected')).status).toBe(401);
    expect((await request(app).get('/health')).status).toBe(200);
    // Past the guard, an admin path the app does not serve is an ordinary 404.
    const missing = await request(app).get('/admin/nothing-here').set('authorization', `Bearer ${TOKEN}`);
    expect(missing.status).toBe(404);
  });

  it('serves the dashboard page with the token', async () => {
    const app = createApp({ logger, checks: {}, adminToken: TOKEN, dashboard: [] });
    const res = await request(app).get('/admin/queues').set('authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('/admin/queues/');
  });
});

describe('ADMIN_TOKEN configuration', () => {
  const cwd = process.cwd();

  it('is read into config.http.adminToken, and left out of anything that prints the config', () => {
    const config = loadConfig({ ADMIN_TOKEN: TOKEN }, cwd);
    expect(config.http.adminToken).toBe(TOKEN);
    expect(JSON.stringify(config)).not.toContain(TOKEN);
    expect(Object.keys(config.http)).not.toContain('adminToken');
    expect(loadConfig({}, cwd).http.adminToken).toBeUndefined();
    expect(loadConfig({ ADMIN_TOKEN: '  ' }, cwd).http.adminToken).toBeUndefined();
  });

  it('refuses a token that cannot travel in a header, without showing it', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'two words' }, cwd)).toThrow(
      /ADMIN_TOKEN must be printable ASCII without spaces \(the value is not shown\)/,
    );
    try {
      loadConfig({ ADMIN_TOKEN: 'two words' }, cwd);
    } catch (err) {
      expect((err as Error).message).not.toContain('two words');
    }
  });
});
