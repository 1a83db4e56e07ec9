/**
 * Issue 20, the Task topics: a partner follows the Tasks it owns or asked for (its acknowledgment
 * Tasks, referrals, escalations), narrowed by the participant's identifier or the Task's code.
 * Every Task version on the server is an event, whoever wrote it (here the hub's delivery opens
 * the acknowledgment Task and the partner completes it), in order and once each; a partner that
 * neither owns nor requested a Task is told nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { TOPICS } from '../../../src/subscriptions/topics.js';
import { dropPrefix, ingest, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { MEDICAID_SYSTEM, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';
import { hubWithSubscribers, Subscriber, subscription, until } from '../../fixtures/subscriber.js';

describe('Task topics', () => {
  const prefix = testPrefix();
  const northside = new Subscriber();
  const harbor = new Subscriber();
  const person = newPerson();
  let hub: RunningHub;
  let urls: Record<string, string> = {};

  async function subscribe(partnerId: string, topic: string, filter?: string): Promise<number> {
    const res = await fetch(`${hub.url}/fhir/Subscription`, {
      method: 'POST',
      headers: { 'x-partner-id': partnerId, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(
        subscription(`${urls[partnerId]}/notify/${topic.split('/').pop()}`, {
          topic,
          ...(filter ? { filter } : {}),
        }),
      ),
    });
    return res.status;
  }

  /** The Task versions a subscriber was told of on one topic, from the raw receipts, in order. */
  const told = (who: Subscriber, topic: string): string[] =>
    who
      .log()
      .filter((n, i) => n.type === 'event-notification' && who.paths[i]!.endsWith(topic.split('/').pop()!))
      .flatMap((n) => n.focus);

  beforeAll(async () => {
    // northside-bh is on the care team (an admission), so it receives the plan and is asked to acknowledge it.
    ({ hub, urls } = await hubWithSubscribers(
      prefix,
      { 'northside-bh': northside, 'harbor-housing': harbor },
      person,
    ));
  });

  afterAll(async () => {
    await hub?.close();
    await northside.stop();
    await harbor.stop();
    await dropPrefix(prefix);
  });

  it('lists every topic', async () => {
    const res = await fetch(`${hub.url}/fhir/Subscription/$topic-list`, {
      headers: { 'x-partner-id': 'northside-bh' },
    });
    const list = (await res.json()) as { parameter: Array<{ valueCanonical: string }> };
    expect(list.parameter.map((p) => p.valueCanonical).sort()).toEqual(Object.values(TOPICS).sort());
  });

  it('refuses a filter the topic does not have, naming it', async () => {
    const res = await fetch(`${hub.url}/fhir/Subscription`, {
      method: 'POST',
      headers: { 'x-partner-id': 'northside-bh', 'content-type': 'application/fhir+json' },
      body: JSON.stringify(
        subscription(`${urls['northside-bh']}/notify`, {
          topic: TOPICS.carePlanChanged,
          filter: 'CarePlan?code=x',
        }),
      ),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Subscription.criteria.extension');
  });

  it("tells the owner of each version of its acknowledgment Task, by the participant's identifier; nobody else", async () => {
    const byIdentifier = `Task?patient:identifier=${encodeURIComponent(`${MEDICAID_SYSTEM}|${person.medicaid}`)}`;
    expect(await subscribe('northside-bh', TOPICS.acknowledgmentChanged, byIdentifier)).toBe(201);
    expect(
      await subscribe(
        'northside-bh',
        TOPICS.agencyTaskChanged,
        // This participant's only: other tests' overdue acknowledgments on the shared server
        // escalate to northside-bh too, and those are rightly its escalation reviews.
        `${byIdentifier}&code=${CODE_SYSTEM.taskCode}|escalation-review`,
      ),
    ).toBe(201);
    // This participant's only, too: other tests on the shared server open Tasks harbor-housing
    // owns (HMIS exports' housing follow-ups), and it is rightly told of those.
    expect(await subscribe('harbor-housing', TOPICS.agencyTaskChanged, byIdentifier)).toBe(201);
    await until(() => northside.log().filter((n) => n.type === 'handshake').length === 2);

    expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const [opened] = await until(
      () =>
        told(northside, TOPICS.acknowledgmentChanged).length > 0 &&
        told(northside, TOPICS.acknowledgmentChanged),
    );
    expect(opened).toMatch(/^Task\/[^/]+\/_history\/1$/);
    const taskId = opened!.split('/')[1]!;
    const task = await hub.fhir.read<Task>('Task', taskId);
    expect(task.owner?.reference).toBe('Organization/northside-bh');

    const ack = await fetch(`${hub.url}/partners/northside-bh/acknowledgments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        carePlan: task.focus!.reference!.split('/_history/')[0],
        version: task.focus!.reference!.split('/_history/')[1],
        status: 'completed',
      }),
    });
    expect(ack.status).toBe(200);
    const completed = await hub.fhir.read<Task>('Task', taskId);
    const last = `Task/${taskId}/_history/${completed.meta!.versionId}`;
    await until(() => told(northside, TOPICS.acknowledgmentChanged).includes(last));

    // Every version once, in order, numbered without a gap (counted from the raw receipts).
    const versions = told(northside, TOPICS.acknowledgmentChanged).map((f) => Number(f.split('/').pop()));
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    const numbers = northside
      .log()
      .filter(
        (n, i) => n.type === 'event-notification' && northside.paths[i]!.endsWith('acknowledgment-changed'),
      )
      .flatMap((n) => n.events);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    // Not an escalation: the code filter kept it out; not harbor-housing's Task: it heard nothing.
    await new Promise((r) => setTimeout(r, 3000));
    expect(told(northside, TOPICS.agencyTaskChanged)).toEqual([]);
    expect(told(harbor, TOPICS.agencyTaskChanged)).toEqual([]);
  });
});
