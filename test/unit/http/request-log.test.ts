import { describe, expect, it } from '@jest/globals';
import express from 'express';
import { Writable } from 'node:stream';
import request from 'supertest';
import { requestLog } from '../../../src/http/middleware/request-log.js';
import { createLogger } from '../../../src/logging/logger.js';

/** An app that logs its requests into `lines`. */
function loggedApp(lines: string[]): express.Express {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = express();
  app.use(requestLog(createLogger('info', {}, sink)));
  app.get('/fhir/Patient', (_req, res) => {
    res.json({});
  });
  return app;
}

describe('the request log', () => {
  it("answers and logs the caller's request id, or a new one, and never the query string", async () => {
    const lines: string[] = [];
    const app = loggedApp(lines);
    const kept = await request(app).get('/fhir/Patient?name=Robin').set('x-request-id', 'partner-req-42');
    expect(kept.headers['x-request-id']).toBe('partner-req-42');
    const made = await request(app).get('/fhir/Patient').set('x-request-id', 'two words');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const logged = lines.map((l) => JSON.parse(l) as { requestId: string; path: string });
    expect(logged.map((l) => l.requestId)).toEqual(['partner-req-42', made.headers['x-request-id']]);
    expect(lines.join('')).not.toContain('Robin');
  });
});
