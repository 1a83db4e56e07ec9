/**
 * Issue 7 (hardening): hostile input gets a 4xx OperationOutcome and the hub keeps serving.
 * Oversized bodies, deep JSON, malformed HL7, formula injection in CSV fields, path traversal in
 * zip entry names, header injection, and a partner over its request rate.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import AdmZip from 'adm-zip';
import { connect } from 'node:net';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  diagnostics,
  dropPrefix,
  get,
  post,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { evvCsv, evvRow, hmisFiles, newPerson } from '../../fixtures/ingest/samples.js';

const RATE_LIMIT = 40;

describe('hostile input', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(prefix, { MAX_BODY_MB: '1', RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  /** Every hostile request must leave the hub answering its health check. */
  async function stillServing(): Promise<void> {
    expect((await get(hub, '/health')).status).toBe(200);
  }

  function expectRefused(answer: { status: number; body: unknown }, status: number, text: RegExp): void {
    expect(answer.status).toBe(status);
    expect((answer.body as { resourceType?: string }).resourceType).toBe('OperationOutcome');
    expect(diagnostics(answer.body as object).join('\n')).toMatch(text);
  }

  it('refuses a body over MAX_BODY_MB with 413', async () => {
    const big = JSON.stringify({ planId: 'x', padding: 'x'.repeat(1.5 * 1024 * 1024) });
    expectRefused(await post(hub, '/ingest/sunrise-hcbs/service-plan', big), 413, /too large/i);
    await stillServing();
  });

  it('refuses JSON nested deeper than the limit on every JSON route', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expectRefused(
      await post(hub, '/ingest/sunrise-hcbs/service-plan', deep),
      400,
      /nests 100000 levels deep/,
    );
    expectRefused(await post(hub, '/fhir/$process-message', deep, 'application/fhir+json'), 400, /nests/);
    expectRefused(await post(hub, '/huddles', deep), 400, /nests/);
    // Depth inside strings does not count.
    const flat = JSON.stringify({ date: 'not-a-date', attendees: [], decisions: [], note: '['.repeat(1000) });
    expect((await post(hub, '/huddles', flat)).status).toBe(400);
    await stillServing();
  });

  it('refuses malformed HL7 v2 with an OperationOutcome naming the problem', async () => {
    const hl7 = 'application/hl7-v2';
    for (const body of [
      '',
      'not an hl7 message at all',
      Buffer.from([0x00, 0xff, 0x0b, 0x1c, 0x0d]),
      'MSH|^~\\&|X|NORTHSIDE\rPID|' + '|'.repeat(50_000),
      'MSH|^~\\&|NBHEHR|NORTHSIDE|HUB|CARECOORD|20250310||ADT^A01|1|P|2.5.1\r' + 'ZZZ|x\r'.repeat(20_000),
    ]) {
      const answer = await post(hub, '/ingest/northside-bh/hl7v2-adt', body, hl7);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect((answer.body as { resourceType?: string }).resourceType).toBe('OperationOutcome');
    }
    await stillServing();
  });

  it('refuses formula injection in CSV identifiers, naming the row and field', async () => {
    const person = newPerson();
    const row = evvRow(person, '=2+5*cmd|calc!A0', 'NS');
    const answer = await post(hub, '/ingest/sunrise-hcbs/evv-csv', evvCsv(row), 'text/csv');
    expectRefused(answer, 422, /VisitID/);
    await stillServing();
  });

  it('refuses zip entries that climb out of the export folder', async () => {
    const zip = new AdmZip();
    for (const [name, text] of Object.entries(hmisFiles(newPerson()))) {
      zip.addFile(name, Buffer.from(text));
    }
    zip.addFile('placeholder.csv', Buffer.from('x'));
    const entry = zip.getEntry('placeholder.csv')!;
    entry.entryName = '../../etc/Client.csv';
    const answer = await post(hub, '/ingest/harbor-housing/hmis-csv', zip.toBuffer(), 'application/zip');
    expectRefused(answer, 422, /\.\.\/\.\.\/etc\/Client\.csv/);
    await stillServing();
  });

  it('never reflects header injection from the path into the answer', async () => {
    const { hostname, port } = new URL(hub.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          'GET /partners/x%0d%0aSet-Cookie:%20pwned=1/tasks HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n',
        );
      });
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    const [head] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(head).not.toMatch(/^Set-Cookie/im);
    await stillServing();
  });

  it('sends the security headers', async () => {
    const res = await fetch(`${hub.url}/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('answers 429 to a partner over its rate, without slowing other partners', async () => {
    // harbor-housing has used one request of its minute above (the zip).
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT; i++) {
      statuses.push((await get(hub, '/partners/harbor-housing/tasks?status=requested')).status);
    }
    expect(statuses.slice(0, RATE_LIMIT - 1).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const over = await get(hub, '/partners/harbor-housing/tasks?status=requested');
    expectRefused(over, 429, /More than 40 requests a minute/);
    expect((await get(hub, '/partners/sunrise-hcbs/tasks?status=requested')).status).toBe(200);
    await stillServing();
  });
});
