import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { demoInboxRoutes } from '../../../src/demo/demo-inbox.routes.js';

describe('demo partner inbox', () => {
  it('answers a plan-change message like a partner endpoint and lists it, marking a redelivery', async () => {
    const app = express().use(demoInboxRoutes());
    const message = {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        { resource: { resourceType: 'MessageHeader', id: 'm-1', eventCoding: { code: 'careplan-update' } } },
        {
          resource: {
            resourceType: 'Communication',
            payload: [{ contentString: 'Shared plan version 2: status' }],
          },
        },
      ],
    };
    const send = () =>
      request(app)
        .post('/demo/inbox/sunrise-hcbs/$process-message')
        .set('content-type', 'application/fhir+json')
        .set('x-hub-message-id', 'm-1')
        .set('x-hub-plan-version', '2')
        .send(JSON.stringify(message));
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.body.entry[0].resource.response).toEqual({ identifier: 'm-1', code: 'ok' });
    await send();
    const inbox = await request(app).get('/demo/inbox/sunrise-hcbs');
    const entries = inbox.body as Array<{ duplicate: boolean; planVersion: string }>;
    expect(entries.map((e) => [e.planVersion, e.duplicate])).toEqual([
      ['2', true],
      ['2', false],
    ]);
    expect(inbox.body[1].summary).toBe('Shared plan version 2: status');
  });
});
