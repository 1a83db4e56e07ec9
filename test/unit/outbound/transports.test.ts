import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Bundle, CarePlan, Communication, MessageHeader } from 'fhir/r4.js';
import nock from 'nock';
import { Webhook } from 'standardwebhooks';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../../../src/outbound/delivery-error.js';
import { deliver } from '../../../src/outbound/transports.js';
import type { OutboundTarget, PlanChangeDelivery } from '../../../src/outbound/types.js';
import { signWebhook, verifyWebhook } from '../../../src/outbound/webhook-signature.js';

const PARTNER = 'https://partner.example.org';
const SECRET = 'northside-signing-secret';
const NOW = 1_795_000_000; // seconds
const MESSAGE_ID = '3f2a9c4e-1b7d-5e21-8a4f-0c9d8e7f6a5b';
const HUB_PLAN_ID = { system: 'https://carecoord.example.org/sid/hub/careplan', value: 'cp-1' };

const carePlan: CarePlan = {
  resourceType: 'CarePlan',
  id: 'cp-1',
  meta: { versionId: '3', lastUpdated: '2026-11-20T10:15:00Z' },
  identifier: [
    HUB_PLAN_ID,
    { system: 'https://carecoord.example.org/sid/sunrise-hcbs/service-plan', value: 'SP-9' },
  ],
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/p-1' },
};

const notice: Communication = {
  resourceType: 'Communication',
  id: 'n-1',
  status: 'completed',
  subject: { reference: 'Patient/p-1' },
  about: [{ reference: 'CarePlan/cp-1/_history/3' }],
};

const delivery: PlanChangeDelivery = {
  messageId: MESSAGE_ID,
  partnerId: 'northside-bh',
  participant: { identifiers: [{ system: 'https://carecoord.example.org/sid/mcd', value: 'QX7781234' }] },
  carePlan,
  notice,
};

const webhook: OutboundTarget = {
  transport: 'webhook',
  url: `${PARTNER}/hub-events`,
  timeoutMs: 2000,
  secret: SECRET,
};
const fhirRest: OutboundTarget = { transport: 'fhir-rest', url: `${PARTNER}/fhir`, timeoutMs: 2000 };
const fhirMessage: OutboundTarget = { transport: 'fhir-message', url: `${PARTNER}/fhir/`, timeoutMs: 2000 };

/** One request as the partner saw it on the wire. */
interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Records every request of a scope exactly as sent (raw body, lower-case headers). */
function record(scope: nock.Scope): Seen[] {
  const seen: Seen[] = [];
  scope.on(
    'request',
    (req: { method: string; path: string; headers: Record<string, unknown> }, _i, body: string) => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k.toLowerCase(),
          Array.isArray(v) ? v.join(', ') : String(v),
        ]),
      );
      seen.push({ method: req.method, path: req.path, headers, body });
    },
  );
  return seen;
}

/** The failure `deliver` threw (fails the test when it did not throw a DeliveryError). */
async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

/**
 * What a partner's webhook endpoint runs, written from the README alone (not the hub's code):
 * recompute HMAC-SHA256 of "<timestamp>.<raw body>" with the shared secret, compare in constant
 * time, refuse a timestamp more than five minutes away, remember message ids.
 */
class WebhookPartner {
  private readonly seenIds = new Set<string>();
  constructor(private readonly secret: string) {}

  check(
    headers: Record<string, string | undefined>,
    rawBody: string,
    nowSeconds: number,
  ): { status: number; reason: string } {
    const signature = headers['x-hub-signature'];
    const timestamp = headers['x-hub-timestamp'];
    if (!signature || !timestamp || !/^\d+$/.test(timestamp)) {
      return { status: 401, reason: 'missing signature or timestamp' };
    }
    if (Math.abs(nowSeconds - Number(timestamp)) > 300) {
      return { status: 401, reason: 'stale timestamp (replay?)' };
    }
    const expected = Buffer.from(
      `sha256=${createHmac('sha256', this.secret).update(`${timestamp}.${rawBody}`).digest('hex')}`,
    );
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return { status: 401, reason: 'bad signature' };
    }
    const { messageId } = JSON.parse(rawBody) as { messageId: string };
    if (headers['x-hub-message-id'] !== messageId) {
      return { status: 400, reason: 'message id header does not match the body' };
    }
    if (this.seenIds.has(messageId)) {
      return { status: 200, reason: 'duplicate, ignored' };
    }
    this.seenIds.add(messageId);
    return { status: 200, reason: 'applied' };
  }
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  nock.disableNetConnect();
  expect(pending).toEqual([]);
});

afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('webhook transport', () => {
  it('POSTs the signed JSON body with the message id, plan version, timestamp and signature', async () => {
    const scope = nock(PARTNER).post('/hub-events').reply(202, 'accepted');
    const seen = record(scope);

    const receipt = await deliver(delivery, webhook, NOW);

    expect(receipt).toEqual({ httpStatus: 202, partnerAnswer: 'accepted' });
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hub-events');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-hub-message-id']).toBe(MESSAGE_ID);
    expect(req.headers['x-hub-plan-version']).toBe('3');
    expect(req.headers['x-hub-timestamp']).toBe(String(NOW));
    expect(req.headers['x-hub-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(req.body)).toEqual({
      messageId: MESSAGE_ID,
      type: 'plan-change',
      participant: delivery.participant,
      carePlan,
      notice,
    });
  });

  it('is verified by a partner that recomputes the HMAC with its secret, and a redelivery de-duplicates', async () => {
    const partner = new WebhookPartner(SECRET);
    const scope = nock(PARTNER)
      .post('/hub-events')
      .times(2)
      .reply(function () {
        const req = seen[seen.length - 1]!;
        const { status, reason } = partner.check(req.headers, req.body, NOW + 2);
        return [status, reason];
      });
    const seen = record(scope);

    expect(await deliver(delivery, webhook, NOW)).toEqual({ httpStatus: 200, partnerAnswer: 'applied' });
    // A retry one second later: a fresh timestamp and signature, the same message id.
    expect(await deliver(delivery, webhook, NOW + 1)).toEqual({
      httpStatus: 200,
      partnerAnswer: 'duplicate, ignored',
    });
    expect(seen.map((s) => s.headers['x-hub-message-id'])).toEqual([MESSAGE_ID, MESSAGE_ID]);
    // The reference implementation agrees with the partner's own check.
    for (const s of seen) {
      expect(
        verifyWebhook(
          SECRET,
          { signature: s.headers['x-hub-signature'], timestamp: s.headers['x-hub-timestamp'] },
          s.body,
          NOW + 2,
        ),
      ).toEqual({ ok: true });
    }
  });

  it('carries Standard Webhooks headers that the standardwebhooks library verifies with the secret, and only with it', async () => {
    const scope = nock(PARTNER).post('/hub-events').reply(202, 'accepted');
    const seen = record(scope);
    await deliver(delivery, webhook, NOW);
    const req = seen[0]!;
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    expect(headers['webhook-id']).toBe(MESSAGE_ID);
    // The library refuses timestamps far from its clock: verify as of the delivery's time.
    jest.useFakeTimers({ now: NOW * 1000, doNotFake: ['nextTick', 'setImmediate'] });
    try {
      expect(new Webhook(SECRET, { format: 'raw' }).verify(req.body, headers)).toMatchObject({
        messageId: MESSAGE_ID,
      });
      expect(() => new Webhook('another-secret', { format: 'raw' }).verify(req.body, headers)).toThrow();
    } finally {
      jest.useRealTimers();
    }
  });

  it('is refused by a partner holding another secret: 401 is permanent, with the answer kept', async () => {
    const partner = new WebhookPartner('a-different-secret');
    const scope = nock(PARTNER)
      .post('/hub-events')
      .reply(function () {
        const req = seen[0]!;
        const { status, reason } = partner.check(req.headers, req.body, NOW);
        return [status, { error: reason }];
      });
    const seen = record(scope);

    const err = await failure(deliver(delivery, webhook, NOW));
    expect(err.kind).toBe('permanent');
    expect(err.httpStatus).toBe(401);
    expect(err.partnerAnswer).toBe('{"error":"bad signature"}');
  });

  it('fails permanently without sending anything when no signing secret is configured', async () => {
    const scope = nock(PARTNER).post('/hub-events').reply(200);
    const { secret: _secret, ...noSecret } = webhook;

    const err = await failure(deliver(delivery, noSecret, NOW));
    expect(err.kind).toBe('permanent');
    expect(err.message).toMatch(/No signing secret configured for partner northside-bh/);
    expect(scope.isDone()).toBe(false);
    nock.cleanAll();
  });
});

describe('webhook signature, checked the way a partner checks it', () => {
  const body = JSON.stringify({ messageId: MESSAGE_ID, type: 'plan-change', carePlan });
  const signature = signWebhook(SECRET, NOW, body);
  const headers = { signature, timestamp: String(NOW) };

  it('is sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> under the shared secret', () => {
    const recomputed = createHmac('sha256', SECRET).update(`${NOW}.${body}`).digest('hex');
    expect(signature).toBe(`sha256=${recomputed}`);
    expect(verifyWebhook(SECRET, headers, body, NOW)).toEqual({ ok: true });
    expect(
      new WebhookPartner(SECRET).check(
        { 'x-hub-signature': signature, 'x-hub-timestamp': String(NOW), 'x-hub-message-id': MESSAGE_ID },
        body,
        NOW,
      ),
    ).toEqual({ status: 200, reason: 'applied' });
  });

  it('rejects a tampered body, a wrong secret and a signature moved to another timestamp', () => {
    const tampered = body.replace('"plan-change"', '"plan-chang3"');
    expect(verifyWebhook(SECRET, headers, tampered, NOW)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifyWebhook('other-secret', headers, body, NOW)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    // A captured request resent with a fresh timestamp: the signature covers the old one.
    expect(verifyWebhook(SECRET, { signature, timestamp: String(NOW + 600) }, body, NOW + 600)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(
      verifyWebhook(SECRET, { signature: signature.toUpperCase(), timestamp: String(NOW) }, body, NOW).ok,
    ).toBe(false);
  });

  it('rejects a timestamp outside the five-minute tolerance (a replay), either way', () => {
    expect(verifyWebhook(SECRET, headers, body, NOW + 300)).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, headers, body, NOW - 300)).toEqual({ ok: true });
    const replay = { ok: false, reason: 'timestamp outside the tolerance window (possible replay)' };
    expect(verifyWebhook(SECRET, headers, body, NOW + 301)).toEqual(replay);
    expect(verifyWebhook(SECRET, headers, body, NOW - 301)).toEqual(replay);
    expect(verifyWebhook(SECRET, headers, body, NOW + 61, 60)).toEqual(replay);
  });

  it('rejects a missing signature or timestamp', () => {
    const missing = { ok: false, reason: 'missing signature or timestamp' };
    expect(verifyWebhook(SECRET, { timestamp: String(NOW) }, body, NOW)).toEqual(missing);
    expect(verifyWebhook(SECRET, { signature: '', timestamp: String(NOW) }, body, NOW)).toEqual(missing);
    expect(verifyWebhook(SECRET, { signature }, body, NOW)).toEqual(missing);
    expect(verifyWebhook(SECRET, { signature, timestamp: 'yesterday' }, body, NOW)).toEqual(missing);
  });
});

describe('signatures and answers on every transport', () => {
  it.each([
    [
      'fhir-rest',
      { ...fhirRest, secret: SECRET },
      '/fhir',
      { resourceType: 'Bundle', type: 'transaction-response' },
    ],
    [
      'fhir-message',
      { ...fhirMessage, secret: SECRET },
      '/fhir/$process-message',
      { resourceType: 'Bundle' },
    ],
  ] as const)('signs a %s delivery when the partner has a secret', async (_name, target, path, answer) => {
    const seen = record(nock(PARTNER).post(path).reply(200, answer));
    await deliver(delivery, target, NOW);
    const req = seen[0]!;
    const headers = {
      signature: req.headers['x-hub-signature'] as string,
      timestamp: req.headers['x-hub-timestamp'] as string,
    };
    expect(verifyWebhook(SECRET, headers, req.body, NOW)).toEqual({ ok: true });
  });

  it('stops reading an answer after 1 MiB (a partner cannot make the hub buffer without end)', async () => {
    let written = 0;
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (written < 256 * 1024 * 1024 && res.write(chunk)) {
          written += chunk.length;
        }
        if (written >= 256 * 1024 * 1024) {
          res.end();
        }
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      nock.enableNetConnect('127.0.0.1');
      const receipt = await deliver(
        delivery,
        { ...webhook, url: `http://127.0.0.1:${port}/hub-events` },
        NOW,
      );
      expect(receipt.partnerAnswer?.length).toBeLessThanOrEqual(2000);
      expect(written).toBeLessThan(32 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('fhir-rest transport', () => {
  it('POSTs one transaction of conditional PUTs: the plan on the hub identifier, the notice on the message id', async () => {
    const scope = nock(PARTNER)
      .post('/fhir')
      .reply(200, { resourceType: 'Bundle', type: 'transaction-response' });
    const seen = record(scope);

    const receipt = await deliver(delivery, fhirRest, NOW);

    expect(receipt.httpStatus).toBe(200);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/fhir+json');
    expect(req.headers['x-hub-message-id']).toBe(MESSAGE_ID);
    expect(req.headers['x-hub-plan-version']).toBe('3');
    expect(req.headers['x-hub-signature']).toBeUndefined();
    const bundle = JSON.parse(req.body) as Bundle;
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry).toHaveLength(2);
    const [plan, communication] = bundle.entry!;
    expect(plan!.request).toEqual({
      method: 'PUT',
      url: `CarePlan?identifier=${encodeURIComponent(`${HUB_PLAN_ID.system}|${HUB_PLAN_ID.value}`)}`,
    });
    // The partner's server assigns its own ids: the hub's id and meta do not travel.
    const { id: _id, meta: _meta, ...planWithoutIds } = carePlan;
    expect(plan!.resource).toEqual(planWithoutIds);
    expect(communication!.request).toEqual({
      method: 'PUT',
      url: `Communication?identifier=${encodeURIComponent(`urn:ietf:rfc:3986|urn:uuid:${MESSAGE_ID}`)}`,
    });
    expect(communication!.resource).toMatchObject({
      resourceType: 'Communication',
      identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${MESSAGE_ID}` }],
    });
    expect((communication!.resource as Communication).id).toBeUndefined();
  });

  it('keeps the partner OperationOutcome of a refused transaction (4xx is permanent)', async () => {
    const outcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'processing', diagnostics: 'CarePlan.subject: unknown Patient' }],
    };
    nock(PARTNER).post('/fhir').reply(422, outcome, { 'content-type': 'application/fhir+json' });

    const err = await failure(deliver(delivery, fhirRest, NOW));
    expect(err.kind).toBe('permanent');
    expect(err.httpStatus).toBe(422);
    expect(JSON.parse(err.partnerAnswer!)).toEqual(outcome);
  });
});

describe('fhir-message transport', () => {
  const responseMessage = (
    code: 'ok' | 'transient-error' | 'fatal-error',
    extra: Partial<MessageHeader> = {},
  ) => ({
    resourceType: 'Bundle',
    type: 'message',
    entry: [
      {
        resource: {
          resourceType: 'MessageHeader',
          ...extra,
          eventCoding: { system: 'urn:test', code: 'careplan-update' },
          source: { endpoint: 'https://partner.example.org/fhir' },
          response: { identifier: MESSAGE_ID, code },
        },
      },
    ],
  });

  it('POSTs a message Bundle to $process-message whose Bundle and MessageHeader ids are the message id', async () => {
    const scope = nock(PARTNER).post('/fhir/$process-message').reply(200, responseMessage('ok'));
    const seen = record(scope);

    const receipt = await deliver(delivery, fhirMessage, NOW);

    expect(receipt.httpStatus).toBe(200);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/fhir/$process-message');
    expect(req.headers['content-type']).toBe('application/fhir+json');
    expect(req.headers['x-hub-message-id']).toBe(MESSAGE_ID);
    expect(req.headers['x-hub-plan-version']).toBe('3');
    const bundle = JSON.parse(req.body) as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', id: MESSAGE_ID, type: 'message' });
    const [header, plan, sentNotice] = bundle.entry!;
    expect(header!.resource).toMatchObject({
      resourceType: 'MessageHeader',
      id: MESSAGE_ID,
      eventCoding: { code: 'careplan-update' },
      destination: [{ receiver: { reference: 'Organization/northside-bh' } }],
      focus: [{ reference: plan!.fullUrl }],
    });
    expect(plan!.resource).toEqual(carePlan);
    expect(sentNotice!.resource).toEqual(notice);
  });

  it('treats a response message saying fatal-error as permanent even with HTTP 200', async () => {
    nock(PARTNER).post('/fhir/$process-message').reply(200, responseMessage('fatal-error'));

    const err = await failure(deliver(delivery, fhirMessage, NOW));
    expect(err.kind).toBe('permanent');
    expect(err.httpStatus).toBe(200);
    expect(err.partnerAnswer).toContain('fatal-error');
  });

  it('retries a response message saying transient-error', async () => {
    nock(PARTNER).post('/fhir/$process-message').reply(200, responseMessage('transient-error'));

    const err = await failure(deliver(delivery, fhirMessage, NOW));
    expect(err.kind).toBe('transient');
    expect(err.httpStatus).toBe(200);
  });

  it('reads the response code even when the response message is long (beyond the kept answer)', async () => {
    const narrative = {
      status: 'generated' as const,
      div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(3000)}</div>`,
    };
    nock(PARTNER)
      .post('/fhir/$process-message')
      .reply(200, responseMessage('fatal-error', { text: narrative }));

    const err = await failure(deliver(delivery, fhirMessage, NOW));
    expect(err.kind).toBe('permanent');
    expect(err.partnerAnswer!.length).toBeLessThanOrEqual(2000);
  });
});

describe('failure classification (every transport)', () => {
  const targets: [string, OutboundTarget, string][] = [
    ['webhook', webhook, '/hub-events'],
    ['fhir-rest', fhirRest, '/fhir'],
    ['fhir-message', fhirMessage, '/fhir/$process-message'],
  ];

  describe.each(targets)('%s', (_name, target, path) => {
    it.each([500, 502, 503, 504, 429, 408])('HTTP %i is transient', async (status) => {
      nock(PARTNER).post(path).reply(status, 'come back later');
      const err = await failure(deliver(delivery, target, NOW));
      expect(err.kind).toBe('transient');
      expect(err.httpStatus).toBe(status);
      expect(err.partnerAnswer).toBe('come back later');
    });

    it.each([400, 401, 403, 404, 409, 410, 413, 422])(
      'HTTP %i is permanent, with the answer kept',
      async (status) => {
        nock(PARTNER).post(path).reply(status, { error: 'message is wrong' });
        const err = await failure(deliver(delivery, target, NOW));
        expect(err.kind).toBe('permanent');
        expect(err.httpStatus).toBe(status);
        expect(err.partnerAnswer).toBe('{"error":"message is wrong"}');
      },
    );

    it('keeps at most 2000 characters of a long answer', async () => {
      nock(PARTNER).post(path).reply(400, 'y'.repeat(10_000));
      const err = await failure(deliver(delivery, target, NOW));
      expect(err.kind).toBe('permanent');
      expect(err.partnerAnswer).toBe('y'.repeat(2000));
    });

    it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])(
      'a network error before sending (%s) is transient',
      async (code) => {
        nock(PARTNER)
          .post(path)
          .replyWithError(Object.assign(new Error(`connect ${code}`), { code }));
        const err = await failure(deliver(delivery, target, NOW));
        expect(err.kind).toBe('transient');
        expect(err.httpStatus).toBeUndefined();
        expect(err.message).toContain(code);
      },
    );

    it('a connection reset after sending is ambiguous (retried with the same message id)', async () => {
      nock(PARTNER)
        .post(path)
        .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      const err = await failure(deliver(delivery, target, NOW));
      expect(err.kind).toBe('ambiguous');
    });

    it('a timeout waiting for the partner is ambiguous', async () => {
      nock(PARTNER).post(path).delay(1000).reply(200);
      const err = await failure(deliver(delivery, { ...target, timeoutMs: 50 }, NOW));
      expect(err.kind).toBe('ambiguous');
      expect(err.message).toMatch(/timed out/);
    });
  });

  it.each([301, 302, 303, 307, 308])(
    'a redirect (%i) is not followed: it is permanent, and nothing is re-sent elsewhere',
    async (status) => {
      // fetch would turn a POST answered 301/302/303 into a GET without the body and report the
      // GET's 200 as a delivery; a 307/308 would re-send the signed body to another address.
      nock(PARTNER)
        .post('/hub-events')
        .reply(status, 'moved', { location: `${PARTNER}/moved` });
      const moved = nock(PARTNER).get('/moved').reply(200, 'ok').post('/moved').reply(200, 'ok');

      const err = await failure(deliver(delivery, webhook, NOW));
      expect(err.kind).toBe('permanent');
      expect(err.httpStatus).toBe(status);
      expect(moved.isDone()).toBe(false);
      expect(moved.pendingMocks()).toHaveLength(2);
      nock.cleanAll();
    },
  );

  it('a partner that refuses the connection (nothing listening) is transient', async () => {
    const port = await closedPort();
    nock.enableNetConnect('127.0.0.1');
    for (const transport of ['webhook', 'fhir-rest', 'fhir-message'] as const) {
      const target: OutboundTarget = {
        transport,
        url: `http://127.0.0.1:${port}/in`,
        timeoutMs: 2000,
        secret: SECRET,
      };
      const err = await failure(deliver(delivery, target, NOW));
      expect(err.kind).toBe('transient');
      expect(err.message).toContain('ECONNREFUSED');
    }
  });
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
