/**
 * Issue 18, metrics: `/metrics` in Prometheus text counts each record at the door, each job that
 * ended in each queue (here the applied record), and the queues' depth; only with the admin token.
 */
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ingest, outcomeOf, useTestHub } from '../fixtures/ingest/hub-helpers.js';
import { adt, newPerson } from '../fixtures/ingest/samples.js';

const TOKEN = 'metrics-test-token-0123456789';

describe('GET /metrics', () => {
  const hub = useTestHub({ overrides: { ADMIN_TOKEN: TOKEN } });

  it('counts records at the door and the jobs that applied them, and reports queue depth', async () => {
    const person = newPerson();
    const message = adt(person, {
      trigger: 'A01',
      controlId: `M-${person.tag}`,
      visitNumber: `V-${person.tag}`,
    });
    const bad = message.replace(/^MSH\|[^\r]*/, 'MSH|^~\\&|X');
    const answer = await ingest(
      hub(),
      'northside-bh',
      'hl7v2-adt',
      `${message}\r${bad}`,
      'application/hl7-v2',
    );
    expect(outcomeOf(answer).status).toBe(202);

    const scraped = await request(hub().url).get('/metrics').set('authorization', `Bearer ${TOKEN}`);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toBe('text/plain');
    const text = scraped.text;
    expect(text).toContain(
      'hub_ingest_records_total{partner="northside-bh",format="hl7v2-adt",status="accepted"} 1',
    );
    expect(text).toContain(
      'hub_ingest_records_total{partner="northside-bh",format="hl7v2-adt",status="rejected"} 1',
    );
    expect(text).toMatch(
      /hub_jobs_total\{queue="ingest",partner="northside-bh",format="hl7v2-adt",outcome="completed"\} 1\n/,
    );
    expect(text).toMatch(/hub_job_seconds_count\{queue="ingest",outcome="completed"\} 1\n/);
    expect(text).toMatch(/hub_queue_jobs\{queue="ingest",state="waiting"\} 0\n/);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('is not served without the admin token', async () => {
    expect((await request(hub().url).get('/metrics')).status).toBe(401);
  });
});
