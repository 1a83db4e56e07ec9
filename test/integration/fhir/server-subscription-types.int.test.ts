import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Resource, Subscription } from 'fhir/r4.js';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testGateway, unique } from '../../support/test-env.js';

// fhir-server/ hands a change to its subscription pipeline only when a Subscription watches the
// change's type (fhir-server/README.md, "Subscriptions"). A Subscription for a type nothing watched
// before must still be told of a change made right after it turns active, before the server's
// periodic read of its Subscriptions (every 10 s) has seen it. Four types, one after another,
// spread over more than one period: that read can fall between a Subscription's write and its
// type's change for one of them at most.

/** Types the hub never writes and no other Subscription on the test server names, all with `code`. */
const TYPES: Record<string, Record<string, unknown>> = {
  Basic: {},
  Substance: {},
  Medication: {},
  Group: { type: 'person', actual: false },
};
const SPACING_MS = 2_600;

/** Where the server's rest-hook sends: the path of each notification received. */
let received: string[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Waits until `check` holds or `ms` have passed. */
async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline && !(await check());) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the FHIR server subscription pipeline', () => {
  it('tells a new Subscription of a type nothing else watches about a change made as soon as it is active', async () => {
    const fhir = testGateway();
    for (const [type, required] of Object.entries(TYPES)) {
      const began = Date.now();
      const code = unique('watched');
      const subscription = await fhir.update<Subscription>({
        resourceType: 'Subscription',
        id: unique('types').slice(0, 64),
        status: 'requested',
        reason: 'test: a type no other Subscription watches',
        criteria: `${type}?code=urn:test|${code}`,
        channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
      });
      try {
        const status = async (): Promise<string> =>
          (await fhir.read<Subscription>('Subscription', subscription.id!)).status;
        await waitFor(async () => (await status()) === 'active', 20_000);
        expect(await status()).toBe('active');
        received = [];
        const changed = await fhir.create({
          resourceType: type,
          code: { coding: [{ system: 'urn:test', code }] },
          ...required,
        } as Resource);
        const notification = `PUT /hook/${type}/${changed.id}`;
        await waitFor(() => received.includes(notification), 15_000);
        expect(received).toContain(notification);
      } finally {
        await fhir.delete('Subscription', subscription.id!);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, began + SPACING_MS - Date.now())));
    }
  }, 120_000);
});
