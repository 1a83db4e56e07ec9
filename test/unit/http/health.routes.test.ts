import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createApp } from '../../../src/http/create-app.js';
import { createLogger } from '../../../src/logging/logger.js';

const logger = createLogger('silent');
const up = async (): Promise<void> => undefined;
const down = async (): Promise<void> => {
  throw new Error('connection refused');
};

describe('health routes', () => {
  it('answers liveness without consulting dependencies', async () => {
    const app = createApp({ logger, checks: { fhir: down, redis: down } });
    const res = await request(app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('is ready only when every dependency is up, and names the ones that are down', async () => {
    const ready = await request(createApp({ logger, checks: { fhir: up, redis: up } })).get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.dependencies).toEqual({ fhir: { status: 'up' }, redis: { status: 'up' } });

    const notReady = await request(createApp({ logger, checks: { fhir: up, redis: down } })).get('/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toEqual({
      status: 'unavailable',
      dependencies: { fhir: { status: 'up' }, redis: { status: 'down', error: 'connection refused' } },
    });
  });

  it('tells why a dependency is down only to a caller on this machine', async () => {
    const app = createApp({ logger, checks: { redis: down } });
    const proxied = await request(app).get('/ready').set('x-forwarded-for', '203.0.113.9');
    expect(proxied.status).toBe(503);
    expect(proxied.body.dependencies).toEqual({ redis: { status: 'down' } });
  });

  it('answers an unknown route with a 404 OperationOutcome', async () => {
    const res = await request(createApp({ logger, checks: {} })).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('not-found');
  });
});
