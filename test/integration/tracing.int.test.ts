/**
 * Issue 18, traces: with tracing on, one trace follows a record from its door (an MLLP message, or
 * an HTTP request continuing the sender's own `traceparent`) through every queue job to the
 * partner delivery, which carries the trace on to the partner. The traces are written as trees to
 * test-output/traces/ for the docs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../src/logging/logger.js';
import { sendMllp } from '../../src/mllp/mllp-server.js';
import { startHub, type RunningHub } from '../../src/startup/start-hub.js';
import { startTracing } from '../../src/tracing/tracing.js';
import { adt, crisisUpdate, evvCsv, evvRow, newPerson, servicePlan } from '../fixtures/ingest/samples.js';
import { partnerDir } from '../support/config-dirs.js';
import { PartnerServer } from '../support/partner-server.js';
import { REPO_ROOT, testConfig, unique } from '../support/test-env.js';

const OUT = path.join(REPO_ROOT, 'test-output', 'traces');
/** The sender's own trace, as its EHR would send it. */
const SENDER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

async function waitFor<T>(read: () => T | undefined, ms = 30000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined || Date.now() > until) {
      if (value === undefined) {
        throw new Error('timed out');
      }
      return value;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The spans of one trace as an indented tree, each with its duration and attributes. */
function tree(spans: ReadableSpan[]): string {
  const byParent = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    byParent.set(key, [...(byParent.get(key) ?? []), span]);
  }
  const lines: string[] = [];
  const start = Math.min(...spans.map((s) => s.startTime[0] * 1e3 + s.startTime[1] / 1e6));
  const walk = (parent: string | undefined, depth: number): void => {
    const children = (byParent.get(parent) ?? []).sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    for (const span of children) {
      const at = span.startTime[0] * 1e3 + span.startTime[1] / 1e6 - start;
      const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6;
      const attributes = Object.entries(span.attributes)
        .filter(([k]) => !k.startsWith('bullmq.') || k === 'bullmq.job.id')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      lines.push(
        `${'  '.repeat(depth)}${span.name}  [+${at.toFixed(0)} ms, ${ms.toFixed(1)} ms]${attributes ? `  ${attributes}` : ''}`,
      );
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return `${lines.join('\n')}\n`;
}

/** The names of the FHIR calls made under `root`, at any depth, not counting the jobs it queued. */
function fhirCallsUnder(spans: readonly ReadableSpan[], root: ReadableSpan): string[] {
  const under = new Set([root.spanContext().spanId]);
  const found: string[] = [];
  for (let grew = true; grew;) {
    grew = false;
    for (const span of spans) {
      const id = span.spanContext().spanId;
      const job = span.name.startsWith('process ');
      if (!job && !under.has(id) && under.has(span.parentSpanContext?.spanId ?? '')) {
        under.add(id);
        grew = true;
        if (span.name.startsWith('FHIR ')) {
          found.push(span.name);
        }
      }
    }
  }
  return found;
}

describe('traces', () => {
  const spans = new InMemorySpanExporter();
  const tracing = startTracing({ exporter: spans, serviceName: 'hub-under-test' });
  const northside = new PartnerServer('fhir-message');
  let hub: RunningHub;
  const person = newPerson();
  const traceOf = (traceId: string): ReadableSpan[] =>
    spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    const url = await northside.start();
    const partners = partnerDir({
      'northside-bh': (p: { outbound: Record<string, unknown> }) => {
        p.outbound = { ...p.outbound, url };
      },
    });
    hub = await startHub(
      testConfig({ QUEUE_PREFIX: `{${unique('trace')}}`, PARTNER_CONFIG_DIR: partners, MLLP_PORT: '0' }),
      createLogger('silent'),
    );
  });

  afterAll(async () => {
    await hub?.close();
    await northside.stop();
    await tracing?.shutdown();
  });

  it('follows an HL7 message from the MLLP listener through the ingest and coordination jobs', async () => {
    const controlId = `T-${person.tag}`;
    const message = adt(person, { trigger: 'A01', controlId, visitNumber: `V-${person.tag}` });
    const ack = await sendMllp('127.0.0.1', hub.mllpPort, message, 10000);
    expect(ack).toContain('MSA|AA');

    const door = spans
      .getFinishedSpans()
      .find((s) => s.name === 'MLLP message' && s.attributes['hl7.message_control_id'] === controlId)!;
    expect(door.attributes['hub.partner']).toBe('northside-bh');
    const traceId = door.spanContext().traceId;
    // The rules' job runs after the record is written: the same trace reaches it.
    const legs = [
      'add ingest.apply-record',
      'process ingest',
      'process coordination',
      'FHIR POST transaction',
    ];
    await waitFor(() => {
      const names = traceOf(traceId).map((s) => s.name);
      return legs.every((leg) => names.includes(leg)) ? true : undefined;
    }).catch(() => undefined);
    const names = traceOf(traceId).map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['add ingest.apply-record', 'process ingest', 'process coordination']),
    );
    expect(names).toContain('FHIR POST transaction');
    // Reads issued together travel as one batch, named without its size so span names stay few.
    expect(names).toContain('FHIR POST batch');
    expect(names.filter((n) => /\(\d+/.test(n))).toEqual([]);
    writeFileSync(path.join(OUT, 'hl7-message.txt'), tree(traceOf(traceId)));
  });

  it('runs the rules of a missed visit without reading back what the record wrote', async () => {
    const visitor = newPerson();
    const res = await fetch(`${hub.url}/ingest/sunrise-hcbs/evv-csv?wait=30`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', traceparent: `00-${'5'.repeat(32)}-00f067aa0ba902b7-01` },
      body: evvCsv(evvRow(visitor, `V-${visitor.tag}`, 'NS', new Date().toISOString().slice(0, 10))),
    });
    expect(res.status).toBe(200);
    // A new participant is created by a conditional create that travels in the record's one batch
    // of reads (it finds the Patient, or makes it): no call of its own.
    const ingest = traceOf('5'.repeat(32)).find((s) => s.name === 'process ingest')!;
    expect(fhirCallsUnder(traceOf('5'.repeat(32)), ingest)).toEqual([
      'FHIR POST batch',
      'FHIR POST transaction',
    ]);
    const rules = await waitFor(() =>
      traceOf('5'.repeat(32)).find((s) => s.name === 'process coordination' && s.endTime[0] > 0),
    );
    // The Flag and the follow-up Task the record wrote are taken as it sent them: the rules read
    // only how many visits the participant missed lately, and write the documentation Task.
    expect(fhirCallsUnder(traceOf('5'.repeat(32)), rules)).toEqual([
      'FHIR GET Task?patient&code&authored-on',
      'FHIR POST transaction',
    ]);
  });

  it("carries the sender's trace from an HTTP request to the partner's delivery", async () => {
    const plan = servicePlan(person);
    const res = await fetch(`${hub.url}/ingest/sunrise-hcbs/service-plan?wait=30`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${SENDER_TRACE}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify(plan),
    });
    expect(res.status).toBe(200);

    const delivery = await waitFor(() =>
      northside.received.find((r) => r.traceparent?.includes(SENDER_TRACE)),
    );
    expect(delivery.status).toBe(200);
    const legs = [
      'POST /ingest/:partnerId/:format',
      'process ingest',
      'process plan-changes',
      'process deliveries-northside-bh',
      'deliver fhir-message',
    ];
    // A span is exported when it ends: the delivery's job ends a moment after the partner answered.
    await waitFor(() => {
      const names = traceOf(SENDER_TRACE).map((s) => s.name);
      return legs.every((leg) => names.includes(leg)) ? true : undefined;
    }, 10000).catch(() => undefined);
    const trail = traceOf(SENDER_TRACE);
    expect(trail.map((s) => s.name)).toEqual(expect.arrayContaining(legs));
    // A participant the hub knows (the admission made it) is found by the same conditional create,
    // which answers the Patient it matched in the batch (nothing is sent again alone); the plan
    // names it by an identifier the admission did not carry, which is added to it.
    const ingest = trail.find((s) => s.name === 'process ingest')!;
    expect(fhirCallsUnder(trail, ingest)).toEqual([
      'FHIR POST batch',
      'FHIR PUT Patient/{id}',
      'FHIR POST transaction',
    ]);
    // The partner's traceparent names the delivery's own span, so its server spans hang under it.
    const deliverSpan = trail.find((s) => s.name === 'deliver fhir-message')!;
    expect(delivery.traceparent).toBe(`00-${SENDER_TRACE}-${deliverSpan.spanContext().spanId}-01`);
    // The hub wrote the version: the capture takes it, the participant and the team from what the
    // write kept, so the plan-change job calls the FHIR server not at all; the version's record
    // (the Provenance, notice and acknowledgment Tasks) is one transaction of a job of its own.
    const capture = trail.find((s) => s.name === 'process plan-changes')!;
    expect(fhirCallsUnder(trail, capture)).toEqual([]);
    const record = await waitFor(() => traceOf(SENDER_TRACE).find((s) => s.name === 'process plan-records'));
    expect(fhirCallsUnder(traceOf(SENDER_TRACE), record)).toEqual(['FHIR POST transaction']);
    // The rules take what they look at of the written Flag from the record as sent, and the
    // obligations the plan answers from the record's own transaction, which searched them after
    // its writes: nothing is read.
    const rules = await waitFor(() =>
      traceOf(SENDER_TRACE).find((s) => s.name === 'process coordination' && s.endTime[0] > 0),
    );
    expect(fhirCallsUnder(traceOf(SENDER_TRACE), rules)).toEqual([]);
    writeFileSync(path.join(OUT, 'service-plan-to-delivery.txt'), tree(traceOf(SENDER_TRACE)));
  });

  it("takes the crisis updates a crisis update answers from the record's own transaction", async () => {
    const trace = '6'.repeat(32);
    const res = await fetch(`${hub.url}/ingest/sunrise-hcbs/crisis-update?wait=30`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${trace}-00f067aa0ba902b7-01` },
      body: JSON.stringify(crisisUpdate(newPerson())),
    });
    expect(res.status).toBe(200);
    const rules = await waitFor(() =>
      traceOf(trace).find((s) => s.name === 'process coordination' && s.endTime[0] > 0),
    );
    // The next update it asks for and its risk escalation are written; nothing is read first.
    expect(fhirCallsUnder(traceOf(trace), rules)).toEqual(['FHIR POST transaction']);
  });
});
