/**
 * Issue 20: partners subscribe to the hub's topics (Subscriptions R5 Backport on R4). A subscriber
 * gets the handshake, heartbeats and one numbered event per plan version, in order; while its
 * endpoint fails the subscription is in error and nothing is lost: once it answers again the
 * events arrive in order, once each (counted from the raw receipts), and `$events` replays them.
 * A partner off the participant's care team is told nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, CarePlan, Parameters } from 'fhir/r4.js';
import { createLogger } from '../../../src/logging/logger.js';
import { startHub, type RunningHub } from '../../../src/startup/start-hub.js';
import { TOPICS } from '../../../src/subscriptions/topics.js';
import {
  notifyEvents,
  subscriptionDisclosureId,
  SUBSCRIPTIONS_QUEUE,
} from '../../../src/subscriptions/subscriptions.queue.js';
import { Queue } from 'bullmq';
import { dropPrefix, ingest, post, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import {
  fhirMessage,
  MEDICAID_SYSTEM,
  newPerson,
  recoveryPlan,
  servicePlan,
} from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';
import { hubWithSubscribers, Subscriber, subscription, until } from '../../fixtures/subscriber.js';
import { testConfig, testRedis } from '../../support/test-env.js';
import { SubscriptionStore } from '../../../src/subscriptions/subscription-store.js';
import { CircuitBreaker } from '../../../src/outbound/circuit-breaker.js';
import { queueKeyPrefix } from '../../../src/queues/queue-factory.js';

/** What the hub answers here: a Subscription, Parameters or a Bundle, as far as the tests read them. */
interface Answer {
  readonly id?: string;
  readonly status?: string;
  readonly parameter?: Parameters['parameter'];
  readonly entry?: Array<{ readonly resource?: unknown }>;
}

describe('topic-based subscriptions', () => {
  const prefix = testPrefix();
  const northside = new Subscriber();
  const harbor = new Subscriber();
  let hub: RunningHub;
  const person = newPerson();
  let patient = '';
  let urls: Record<string, string> = {};

  async function call(
    method: string,
    path: string,
    as: string,
    body?: object,
  ): Promise<{ status: number; body: Answer }> {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { 'x-partner-id': as, ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function sendPlan(hours: number): Promise<void> {
    const plan = servicePlan(person);
    (plan.services as Array<Record<string, unknown>>)[0]!.serviceUnitQuantity = hours;
    const res = await fetch(`${hub.url}/ingest/sunrise-hcbs/service-plan?wait=30`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(plan),
    });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    // northside-bh joins the participant's care team by sending an admission; harbor-housing never does.
    ({ hub, urls } = await hubWithSubscribers(
      prefix,
      { 'northside-bh': northside, 'harbor-housing': harbor },
      person,
    ));
    const [found] = await hub.fhir.search<{ resourceType: 'Patient'; id?: string }>('Patient', {
      identifier: person.medicaid,
    });
    patient = `Patient/${found!.id!}`;
  });

  afterAll(async () => {
    await hub?.close();
    await northside.stop();
    await harbor.stop();
    await dropPrefix(prefix);
  });

  let northsideSub = '';
  let harborSub = '';

  it('lists its topics and takes a subscription, with a handshake to the endpoint', async () => {
    const topics = await call('GET', '/fhir/Subscription/$topic-list', 'northside-bh');
    expect(topics.body.parameter).toContainEqual({
      name: 'subscription-topic-canonical',
      valueCanonical: TOPICS.carePlanChanged,
    });

    const created = await call(
      'POST',
      '/fhir/Subscription',
      'northside-bh',
      subscription(`${urls['northside-bh']}/notify`, { filter: `CarePlan?patient=${patient}` }),
    );
    expect(created.status).toBe(201);
    northsideSub = created.body.id!;
    await until(() => northside.log().some((n) => n.type === 'handshake'));
    const read = await call('GET', `/fhir/Subscription/${northsideSub}`, 'northside-bh');
    expect(read.body.status).toBe('active');
    const other = subscription(`${urls['harbor-housing']}/notify`, { heartbeat: 1 });
    const harborCreated = await call('POST', '/fhir/Subscription', 'harbor-housing', other);
    expect(harborCreated.status).toBe(201);
    harborSub = harborCreated.body.id!;
    await until(() => harbor.log().some((n) => n.type === 'handshake'));
  });

  it('sends a heartbeat every period', async () => {
    await until(() => harbor.log().some((n) => n.type === 'heartbeat'), 10000);
  });

  it("refuses an endpoint off the partner's own delivery address, and an unknown topic", async () => {
    const elsewhere = await call(
      'POST',
      '/fhir/Subscription',
      'northside-bh',
      subscription('http://169.254.169.254/latest'),
    );
    expect(elsewhere.status).toBe(400);
    expect(JSON.stringify(elsewhere.body)).toContain('Subscription.channel.endpoint');
    const unknown = await call('POST', '/fhir/Subscription', 'northside-bh', {
      ...subscription(`${urls['northside-bh']}/x`),
      criteria: 'http://example.org/topic',
    });
    expect(JSON.stringify(unknown.body)).toContain('Subscription.criteria');
  });

  it('numbers an event per plan version, to partners on the care team only', async () => {
    await sendPlan(10);
    const first = await until(() => northside.log().find((n) => n.type === 'event-notification'));
    expect(first.events).toEqual([1]);
    expect(first.focus[0]).toMatch(/^CarePlan\/[^/]+\/_history\/1$/);
    // full-resource: the plan version itself follows the status entry
    const bundle = northside.received.find((b) => b.entry!.length > 1)!;
    expect(bundle.type).toBe('history');
    expect(bundle.entry![1]!.resource!.resourceType).toBe('CarePlan');
    // The disclosure is audited, as a delivery is: who received which version, about whom.
    const audit = await until(() =>
      hub.fhir.readIfPresent<AuditEvent>('AuditEvent', subscriptionDisclosureId(northsideSub, 1)),
    );
    expect(audit.agent.map((a) => a.who?.reference)).toContain('Organization/northside-bh');
    expect(audit.entity?.map((e) => e.what?.reference)).toEqual([first.focus[0], patient]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(harbor.log().filter((n) => n.type === 'event-notification')).toEqual([]);
  });

  it('goes to error while the endpoint fails, then delivers what it missed in order, once each', async () => {
    northside.failing = true;
    await sendPlan(11);
    await sendPlan(12);
    const statusNow = async (): Promise<string> =>
      (await call('GET', `/fhir/Subscription/${northsideSub}`, 'northside-bh')).body.status ?? '';
    await until(async () => (await statusNow()) === 'error', 20000);
    northside.failing = false;
    await until(
      () =>
        northside
          .log()
          .flatMap((n) => n.events)
          .includes(3),
      30000,
    );
    const numbers = northside.log().flatMap((n) => n.events);
    expect(numbers).toEqual([1, 2, 3]);
    // Active again once a notification went through (the hub records it just after the answer).
    await until(async () => (await statusNow()) === 'active', 10000);
  });

  it('replays past events by number with $events, and reports $status', async () => {
    const replay = await call(
      'GET',
      `/fhir/Subscription/${northsideSub}/$events?eventsSinceNumber=2`,
      'northside-bh',
    );
    const status = replay.body.entry![0]!.resource as Parameters;
    expect(status.parameter!.find((p) => p.name === 'type')!.valueCode).toBe('query-event');
    const numbers = status
      .parameter!.filter((p) => p.name === 'notification-event')
      .map((e) => e.part![0]!.valueString);
    expect(numbers).toEqual(['2', '3']);
    const now = await call('GET', `/fhir/Subscription/${northsideSub}/$status`, 'northside-bh');
    const params = (now.body.entry![0]!.resource as Parameters).parameter!;
    expect(params.find((p) => p.name === 'events-since-subscription-start')!.valueString).toBe('3');
  });

  it('keeps another partner out of a subscription, and ends one on DELETE', async () => {
    expect((await call('GET', `/fhir/Subscription/${northsideSub}`, 'harbor-housing')).status).toBe(404);
    expect((await call('DELETE', `/fhir/Subscription/${northsideSub}`, 'harbor-housing')).status).toBe(404);
    expect((await call('DELETE', `/fhir/Subscription/${northsideSub}`, 'northside-bh')).status).toBe(204);
    expect((await call('GET', `/fhir/Subscription/${northsideSub}`, 'northside-bh')).status).toBe(404);
  });

  it("holds notifications while the partner's circuit is open (shared with its deliveries)", async () => {
    const redis = testRedis();
    try {
      const openMs = 4000;
      const settings = { failureThreshold: 1, windowMs: 60_000, cooldownMs: openMs };
      await new CircuitBreaker(redis, prefix).recordFailure('harbor-housing', settings, Date.now(), false);
      const openedAt = Date.now();
      await new Promise((r) => setTimeout(r, 300)); // a heartbeat already in flight may still land
      const before = harbor.received.length;
      await new Promise((r) => setTimeout(r, 2000));
      expect(harbor.received.length).toBe(before);
      await until(() => harbor.received.length > before, 15000);
      expect(Date.now() - openedAt).toBeGreaterThanOrEqual(openMs - 200);
    } finally {
      redis.disconnect();
    }
  });

  it('waits out a sender that died holding the subscription without using up the tries', async () => {
    // A hub killed mid-send leaves its hold until the lease lapses. The events that queued behind
    // it must wait for it, not spend attempts and fall into hours of backoff (a fault run caught this).
    const redis = testRedis();
    const queue = new Queue(SUBSCRIPTIONS_QUEUE, {
      connection: redis,
      prefix: queueKeyPrefix(prefix, SUBSCRIPTIONS_QUEUE, redis.isCluster),
    });
    try {
      await redis.set(`${prefix}:subscription:${harborSub}:lock`, 'a-dead-sender', 'PX', 3000);
      const focus = `${patient}/_history/2`;
      const n = await new SubscriptionStore(redis, prefix).append(harborSub, focus, patient, new Date());
      await notifyEvents(queue, harborSub, n);
      await until(() => harbor.log().find((x) => x.events.includes(n)), 15000);
      const job = await until(async () => {
        const j = await queue.getJob(`events.${harborSub}.${n}`);
        return j?.finishedOn ? j : undefined;
      });
      // One attempt, the one that sent; no failed attempts before it.
      expect([job.attemptsMade, job.stacktrace]).toEqual([1, []]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('sends with the next heartbeat an event no job sent (its job ran out of tries)', async () => {
    // An event in the log that no job will send: as after the endpoint was down for all the tries.
    const redis = testRedis();
    try {
      const focus = `${patient}/_history/1`;
      const n = await new SubscriptionStore(redis, prefix).append(harborSub, focus, patient, new Date());
      const sent = await until(() => harbor.log().find((x) => x.events.includes(n)), 10000);
      expect(sent).toEqual({ type: 'event-notification', events: [n], focus: [focus] });
    } finally {
      redis.disconnect();
    }
  });
});

describe('subscriptions and 42 CFR Part 2 content', () => {
  const prefix = testPrefix();
  const sunrise = new Subscriber();
  let hub: RunningHub;
  const person = newPerson();

  /** A plan from the Part 2 program (northside-bh), labelled Part 2 by the hub. */
  const part2Plan = (description: string): Record<string, unknown> =>
    fhirMessage(person, 'northside-bh', 'careplan-update', [recoveryPlan(person.tag, description)]);

  beforeAll(async () => {
    const url = await sunrise.start();
    const dir = partnerDir({
      'sunrise-hcbs': (p: { outbound: Record<string, unknown> }) => {
        p.outbound = { ...p.outbound, url: `${url}/deliveries` };
      },
      'northside-bh': (p: { inbound: Record<string, unknown>; outbound?: unknown }) => {
        p.inbound.part2Program = true;
        delete p.outbound;
      },
    });
    hub = await startHub(
      testConfig({ QUEUE_PREFIX: prefix, PARTNER_CONFIG_DIR: dir }),
      createLogger('silent'),
    );
    // sunrise-hcbs is on the care team through its own plan; then it subscribes.
    expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const res = await fetch(`${hub.url}/fhir/Subscription`, {
      method: 'POST',
      headers: { 'x-partner-id': 'sunrise-hcbs', 'content-type': 'application/fhir+json' },
      body: JSON.stringify(subscription(`${url}/notify`)),
    });
    expect(res.status).toBe(201);
    await until(() => sunrise.log().some((n) => n.type === 'handshake'));
  });

  afterAll(async () => {
    await hub?.close();
    await sunrise.stop();
    await dropPrefix(prefix);
  });

  it("tells a subscriber of a Part 2 plan version only while the participant's Consent names it", async () => {
    expect((await ingest(hub, 'northside-bh', 'fhir-message', part2Plan('Weekly counselling'))).status).toBe(
      200,
    );
    const [carePlan] = await hub.fhir.search<CarePlan>('CarePlan', {
      identifier: `https://northside-bh.example.org/plan|P-${person.tag}`,
    });
    expect(carePlan!.meta?.security).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: '42CFRPart2' })]),
    );
    const about = (focus: string[]): boolean => focus.some((f) => f.startsWith(`CarePlan/${carePlan!.id}/`));
    await new Promise((r) => setTimeout(r, 2000));
    expect(sunrise.log().filter((n) => about(n.focus))).toEqual([]);

    const [patient] = await hub.fhir.search('Patient', {
      identifier: `${MEDICAID_SYSTEM}|${person.medicaid}`,
    });
    expect(
      (await post(hub, `/participants/${patient!.id}/consents`, { recipient: 'sunrise-hcbs' })).status,
    ).toBe(201);
    expect(
      (await ingest(hub, 'northside-bh', 'fhir-message', part2Plan('Counselling twice a week'))).status,
    ).toBe(200);
    const told = await until(() => sunrise.log().find((n) => about(n.focus)));
    expect(told.focus).toEqual([`CarePlan/${carePlan!.id}/_history/2`]);
  });
});
