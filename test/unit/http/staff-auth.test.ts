import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { requireStaff } from '../../../src/http/middleware/staff-auth.js';
import { errorHandler } from '../../../src/http/middleware/error-handler.js';
import { createLogger } from '../../../src/logging/logger.js';
import type { TokenStore } from '../../../src/security/token-store.js';

/** A staff route behind requireStaff, with no staff sessions at all. */
function app(adminToken: string | undefined): express.Express {
  const sessions = { lookup: async () => undefined } as unknown as TokenStore;
  const a = express();
  a.get(
    '/consents',
    requireStaff({ sessions, now: () => new Date(), adminToken, onRefused: () => undefined }, [
      'coordinator',
    ]),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  a.use(errorHandler(createLogger('silent')));
  return a;
}

describe('requireStaff (staff routes with AUTH_REQUIRED)', () => {
  it('fails closed without ADMIN_TOKEN: a loopback caller without a session is refused', async () => {
    const answer = await request(app(undefined)).get('/consents');
    expect(answer.status).toBe(401);
    expect(JSON.stringify(answer.body)).toMatch(/staff\/login/);
  });

  it('accepts the break-glass token when one is set, and nothing else', async () => {
    expect((await request(app('glass-0123456789')).get('/consents')).status).toBe(401);
    expect(
      (
        await request(app('glass-0123456789'))
          .get('/consents')
          .set('authorization', 'Bearer glass-0123456789')
      ).status,
    ).toBe(200);
  });
});
