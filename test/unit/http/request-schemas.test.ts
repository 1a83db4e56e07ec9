/**
 * The acknowledgment route validates with its published schema: a bad body is a 400 naming each
 * field, before anything is looked up.
 */
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createApp } from '../../../src/http/create-app.js';
import { createLogger } from '../../../src/logging/logger.js';

describe('request bodies', () => {
  const app = createApp({
    logger: createLogger('silent'),
    checks: {},
    routing: { isPartner: () => true } as never,
  });

  it('refuses an acknowledgment naming no plan version, field by field', async () => {
    const res = await request(app)
      .post('/partners/northside-bh/acknowledgments')
      .send({ carePlan: 'Patient/1', version: 'two', status: 'done' })
      .expect(400);
    const fields = (res.body.issue as Array<{ expression: string[] }>).map((i) => i.expression[0]);
    expect(fields).toEqual(expect.arrayContaining(['/carePlan', '/version', '/status']));
  });

  it('refuses an empty body, naming what is required', async () => {
    const res = await request(app).post('/partners/northside-bh/acknowledgments').send({}).expect(400);
    expect(JSON.stringify(res.body)).toMatch(/\/carePlan is required/);
  });
});
