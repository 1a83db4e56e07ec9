/**
 * The fault suite counts duplicates from the partner servers' raw receipts, and forgives a resend
 * only when the hub could not have seen the partner's 200. When the test process (where the
 * partner servers run) is too busy to read a delivery before the hub's timeout, the hub gives up
 * and closes the connection; the server then reads the request, applies it and answers into a
 * closed connection. That answer must count as one the hub could not see, or a busy machine makes
 * the suite report duplicates the hub never chose to send.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PartnerServer } from '../../support/partner-server.js';
import { eventually } from '../../fixtures/ingest/hub-helpers.js';

/**
 * Sends one delivery from another process (which keeps its own clock), giving up after
 * `timeoutMs`; answers what it saw (the status, or the error's name), which it also writes to
 * `settled` as it happens.
 */
function sendFromAnotherProcess(url: string, timeoutMs: number, settled: string): Promise<string> {
  const script = `
    const { writeFileSync } = require('node:fs');
    // Said a moment after the fetch settles, when a sender that gave up has closed its connection.
    const say = (what) => setTimeout(() => { writeFileSync(${JSON.stringify(settled)}, what); console.log(what); }, 100);
    fetch(${JSON.stringify(url)}, {
      method: 'POST',
      headers: { 'x-hub-message-id': 'm-1', 'x-hub-plan-version': '2', 'x-hub-careplan': 'CarePlan/p-1' },
      body: '{}',
      signal: AbortSignal.timeout(${timeoutMs}),
    }).then((r) => say(String(r.status)), (e) => say(e.name));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', () => resolve(out.trim())));
}

/**
 * Keeps this process's event loop from running until `done` holds (or `maxMs` passed), as a
 * machine too busy to serve it would.
 */
function busyUntil(done: () => boolean, maxMs: number): void {
  const until = Date.now() + maxMs;
  while (!done() && Date.now() < until) {
    // spinning
  }
}

describe('a partner server answering a delivery', () => {
  let server: PartnerServer;
  let dir: string;
  beforeEach(() => {
    server = new PartnerServer('fhir-message');
    dir = mkdtempSync(path.join(os.tmpdir(), 'partner-server-'));
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts an answer as seen when the sender was still waiting for it', async () => {
    const url = await server.start();
    expect(await sendFromAnotherProcess(url, 10_000, path.join(dir, 'settled'))).toBe('200');
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ status: 200, late: false });
  });

  it('counts an answer as unseen when the sender had given up before it was written', async () => {
    const url = await server.start();
    const settled = path.join(dir, 'settled');
    const sent = sendFromAnotherProcess(url, 300, settled);
    // The sender starts, connects (the kernel accepts for this process), sends and times out,
    // all while this process cannot read.
    busyUntil(() => existsSync(settled), 30_000);
    expect(await sent).toBe('TimeoutError');
    await eventually(() => Promise.resolve(server.received.length === 1), 10_000, 'the request read');
    // Applied (the partner has it), answered 200, but into a connection the sender had closed.
    expect(server.applied).toEqual(['m-1']);
    expect(server.received[0]).toMatchObject({ status: 200, late: true });
  });
});
