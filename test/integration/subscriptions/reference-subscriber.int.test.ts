/**
 * Issue 20: the reference subscriber (scripts/reference-subscriber.mjs) subscribes, takes the
 * handshake and the events, and after being down catches up through `$events`: every event
 * printed once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../src/logging/logger.js';
import { startHub, type RunningHub } from '../../../src/startup/start-hub.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { adt, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';
import { freePort, REPO_ROOT, testConfig } from '../../support/test-env.js';

describe('the reference subscriber', () => {
  const prefix = testPrefix();
  const person = newPerson();
  const state = path.join(mkdtempSync(path.join(os.tmpdir(), 'subscriber-')), 'state.json');
  let hub: RunningHub;
  let port = 0;
  let child: ChildProcess | undefined;
  let output = '';

  function start(listen = port): void {
    child = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'scripts/reference-subscriber.mjs'),
        ...['--hub', hub.url, '--partner', 'northside-bh', '--listen', String(listen)],
        ...['--endpoint', `http://127.0.0.1:${port}/notify`, '--state', state, '--heartbeat', '3600'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  }

  async function stop(): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child?.kill();
    await exited;
  }

  async function printed(pattern: RegExp, ms = 30000): Promise<void> {
    const end = Date.now() + ms;
    while (!pattern.test(output)) {
      if (Date.now() > end) {
        throw new Error(`not printed: ${pattern} in\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until the hub has numbered `n` events for the subscriber's subscription. */
  async function numbered(n: number): Promise<void> {
    const { subscription } = JSON.parse(readFileSync(state, 'utf8')) as { subscription: string };
    const end = Date.now() + 30000;
    for (;;) {
      const res = await fetch(`${hub.url}/fhir/Subscription/${subscription}/$status`, {
        headers: { 'x-partner-id': 'northside-bh' },
      });
      const body = (await res.json()) as {
        entry: Array<{ resource: { parameter: Array<{ name: string; valueString?: string }> } }>;
      };
      const count = body.entry[0]!.resource.parameter.find(
        (p) => p.name === 'events-since-subscription-start',
      )?.valueString;
      if (Number(count) >= n || Date.now() > end) {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function post(pathname: string, body: string, type: string): Promise<void> {
    const res = await fetch(`${hub.url}${pathname}?wait=30`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    expect(res.status).toBe(200);
  }

  async function plan(hours: number): Promise<void> {
    const p = servicePlan(person);
    (p.services as Array<Record<string, unknown>>)[0]!.serviceUnitQuantity = hours;
    await post('/ingest/sunrise-hcbs/service-plan', JSON.stringify(p), 'application/json');
  }

  beforeAll(async () => {
    port = await freePort();
    const partners = partnerDir({
      'northside-bh': (p: { outbound: Record<string, unknown> }) => {
        p.outbound = { ...p.outbound, url: `http://127.0.0.1:${port}/deliveries` };
      },
    });
    hub = await startHub(
      testConfig({ QUEUE_PREFIX: prefix, PARTNER_CONFIG_DIR: partners }),
      createLogger('silent'),
    );
    const message = adt(person, {
      trigger: 'A01',
      controlId: `R-${person.tag}`,
      visitNumber: `RV-${person.tag}`,
    });
    await post('/ingest/northside-bh/hl7v2-adt', message, 'application/hl7-v2');
  });

  afterAll(async () => {
    await stop();
    await hub?.close();
    await dropPrefix(prefix);
  });

  it('subscribes, prints each event once and in order, and catches up after a restart', async () => {
    start();
    await printed(/handshake received/);
    await plan(10);
    await printed(/event 1: CarePlan\//);

    await stop();
    await plan(11);
    await plan(12);
    await numbered(3); // the plan changes, after their records, have been published
    // Back on another port: the hub's retries still knock at the old one, so what was missed can
    // only come through $events.
    start(await freePort());
    await printed(/event 3: CarePlan\//);

    const events = [...output.matchAll(/event (\d+): /g)].map((m) => Number(m[1]));
    expect(events).toEqual([1, 2, 3]);
    expect(output).toMatch(/asking for what was missed since event 1/);
    expect(output).toMatch(/catching up: events 2 to 3/);
  });
});
