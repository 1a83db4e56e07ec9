/**
 * Issue 18, batches you can follow: `Prefer: respond-async` stores the batch before answering 202
 * with where its status will be; the status counts the records as they are applied and ends with
 * the answer a synchronous call would have had. Only the sender reads it, and a batch the hub
 * answered for survives a restart before it was parsed.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import type { OperationOutcome } from 'fhir/r4.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { dropPrefix, startTestHub, testPrefix, useTestHub } from '../../fixtures/ingest/hub-helpers.js';
import { createIngestQueue, createIngestQueueEvents } from '../../../src/ingest/ingest.queue.js';
import { testRedis } from '../../support/test-env.js';
import { evvCsv, evvRow, newPerson } from '../../fixtures/ingest/samples.js';

interface Status {
  status: 'queued' | 'processing' | 'done';
  counts?: Record<string, number>;
  httpStatus?: number;
  outcome?: OperationOutcome;
}

async function sendAsync(hub: RunningHub, body: string): Promise<{ status: number; location: string }> {
  const res = await fetch(`${hub.url}/ingest/sunrise-hcbs/evv-csv`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', prefer: 'respond-async' },
    body,
  });
  return { status: res.status, location: res.headers.get('content-location') ?? '' };
}

async function poll(hub: RunningHub, location: string, ms = 30000): Promise<{ http: number; body: Status }> {
  const until = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${hub.url}${location}`);
    const body = (await res.json()) as Status;
    if (res.status !== 202 || Date.now() > until) {
      return { http: res.status, body };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Prefer: respond-async', () => {
  const hub = useTestHub();

  it('answers 202 at once, then counts the records until the outcome is final', async () => {
    const person = newPerson();
    const body = evvCsv(
      evvRow(person, `A-${person.tag}-1`, 'NS'),
      evvRow(person, `A-${person.tag}-2`, 'NOT-A-STATUS'),
      evvRow(person, `A-${person.tag}-3`, 'NS', '2025-03-05'),
    );
    const sent = await sendAsync(hub(), body);
    expect(sent.status).toBe(202);
    expect(sent.location).toMatch(/^\/ingest\/sunrise-hcbs\/batches\/[0-9a-f-]{36}$/);

    const done = await poll(hub(), sent.location);
    expect(done.http).toBe(200);
    expect(done.body.status).toBe('done');
    expect(done.body.counts).toEqual({
      records: 3,
      accepted: 2,
      applied: 2,
      rejected: 1,
      skipped: 0,
      pending: 0,
      failed: 0,
    });
    // The same answer as the synchronous call: 202 (some applied, one refused), naming the row.
    expect(done.body.httpStatus).toBe(202);
    const diagnostics = done.body.outcome!.issue.map((i) => i.diagnostics ?? '').join('\n');
    expect(diagnostics).toMatch(/row 3 \(A-.*-2\): .*VisitStatus/);
  });

  it("is read only by the partner that sent it; another's path does not find it", async () => {
    const person = newPerson();
    const sent = await sendAsync(hub(), evvCsv(evvRow(person, `B-${person.tag}`, 'NS')));
    const other = sent.location.replace('/sunrise-hcbs/', '/northside-bh/');
    expect((await fetch(`${hub().url}${other}`)).status).toBe(404);
    expect((await fetch(`${hub().url}/ingest/sunrise-hcbs/batches/not-an-id`)).status).toBe(404);
  });

  it('refuses at once what the synchronous call refuses before reading: an unknown partner or format', async () => {
    const res = await fetch(`${hub().url}/ingest/nobody/evv-csv`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', prefer: 'respond-async' },
      body: 'x',
    });
    expect(res.status).toBe(404);
  });
});

describe('a synchronous batch waited for', () => {
  const prefix = testPrefix();

  afterAll(async () => {
    await dropPrefix(prefix);
  });

  it("waits for many records at once within the ingest queue's listener cap (no false leak warning)", async () => {
    const redis = testRedis();
    const queue = createIngestQueue(redis, prefix);
    const events = createIngestQueueEvents(redis.duplicate(), prefix);
    try {
      // Each wait adds a 'closing' listener to the queue until it ends (BullMQ's waitUntilFinished).
      const jobs = await Promise.all(
        Array.from({ length: 12 }, (_, i) => queue.add('apply-record', {} as never, { jobId: `wait-${i}` })),
      );
      const waits = jobs.map((job) => job.waitUntilFinished(events, 300).catch(() => undefined));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const waiting = queue.listenerCount('closing');
      expect(waiting).toBe(12);
      const cap = queue.getMaxListeners();
      expect(cap === 0 || cap >= waiting).toBe(true);
      await Promise.all(waits);
    } finally {
      await events.close();
      await queue.close();
      redis.disconnect();
    }
  });
});

describe('a batch answered 202, then the hub stops before parsing it', () => {
  const prefix = testPrefix();
  afterAll(() => dropPrefix(prefix));

  it('is parsed and applied by the hub that starts next', async () => {
    const first = await startTestHub(prefix);
    await first.queues.batches.pause(); // the batch is stored and queued, never parsed here
    const person = newPerson();
    const sent = await sendAsync(first, evvCsv(evvRow(person, `C-${person.tag}`, 'NS')));
    expect(sent.status).toBe(202);
    expect((await poll(first, sent.location, 500)).body.status).toBe('queued');
    await first.close();

    const second = await startTestHub(prefix);
    try {
      await second.queues.batches.resume();
      const done = await poll(second, sent.location);
      // The whole answer, so a failure shows what the hub said rather than an undefined field.
      expect(done).toMatchObject({
        http: 200,
        body: { status: 'done', counts: { records: 1, applied: 1, pending: 0 } },
      });
    } finally {
      await second.close();
    }
  });
});
