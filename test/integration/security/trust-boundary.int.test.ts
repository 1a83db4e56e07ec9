/**
 * Issue 13: the trust boundary, tried as an attacker holding one partner's valid token would. Each
 * demo partner tries every other partner's (and the hub's) resources, identifiers, Tasks,
 * consents, care-team joins, encoded-path ids and forged rest-hook notifications. Every case
 * asserts the 4xx and reads HAPI back to show nothing changed. Real HAPI and Redis.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { CarePlan, CareTeam, Communication, Patient, Provenance, Resource, Task } from 'fhir/r4.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { HOOK_SECRET_HEADER } from '../../../src/fhir/subscriptions.js';
import { sharedHookSecret } from '../../../src/security/hook-secret.js';
import { dropPrefix, eventually, startTestHub, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import {
  adt,
  fhirMessage,
  hmisZip,
  IDENTIFIER_BASE,
  MEDICAID_SYSTEM,
  newPerson,
  servicePlan,
  type Person,
} from '../../fixtures/ingest/samples.js';
import { smartPartners } from '../../support/smart-partners.js';
import { testRedis, unique } from '../../support/test-env.js';

const PARTNERS = ['sunrise-hcbs', 'northside-bh', 'harbor-housing'] as const;
type PartnerId = (typeof PARTNERS)[number];
/** The FHIR formats each demo partner may send. */
const FHIR_SENDERS: ReadonlyArray<readonly [PartnerId, 'fhir-message' | 'fhir-transaction']> = [
  ['sunrise-hcbs', 'fhir-message'],
  ['northside-bh', 'fhir-message'],
  ['northside-bh', 'fhir-transaction'],
  ['harbor-housing', 'fhir-message'],
];
const TASK_CODE = `${IDENTIFIER_BASE}/fhir/CodeSystem/hub-task-code`;
const sid = (owner: string, kind: string): string => `${IDENTIFIER_BASE}/sid/${owner}/${kind}`;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

describe('trust boundary: a partner writes and reads only what is its own', () => {
  const prefix = testPrefix();
  let hub: RunningHub;
  const tokens = new Map<PartnerId, string>();

  beforeAll(async () => {
    // The housing program joins no care team through its HMIS exports (staff put it on).
    const smart = await smartPartners(PARTNERS, undefined, {
      'harbor-housing': (p) => {
        (p.inbound as { careTeamJoins?: string[] }).careTeamJoins = [];
      },
    });
    hub = await startTestHub(prefix, {
      AUTH_REQUIRED: 'true',
      PARTNER_CONFIG_DIR: smart.dir,
      ADMIN_TOKEN: 'trust-boundary-admin-token-0123456789',
    });
    for (const id of PARTNERS) {
      tokens.set(id, await smart.token(hub.url, id));
    }
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  async function call(
    method: string,
    urlPath: string,
    as: PartnerId | undefined,
    body?: unknown,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const res = await fetch(`${hub.url}${urlPath}`, {
      method,
      headers: {
        ...(as ? { authorization: `Bearer ${tokens.get(as)}` } : {}),
        ...(body === undefined ? {} : { 'content-type': contentType }),
        ...headers,
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (an HL7 ACK, a page): kept as text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** A FHIR message or transaction from `sender` about `person` carrying `resources`. */
  function bundle(
    sender: PartnerId,
    format: 'fhir-message' | 'fhir-transaction',
    person: Person,
    resources: Resource[],
    patientIdentifiers = [{ system: MEDICAID_SYSTEM, value: person.medicaid }],
  ): object {
    const patient = { resourceType: 'Patient', identifier: patientIdentifiers };
    if (format === 'fhir-transaction') {
      return {
        resourceType: 'Bundle',
        type: 'transaction',
        identifier: { system: sid(sender, 'tx'), value: unique('tx') },
        entry: [patient, ...resources].map((resource, i) => ({
          fullUrl: i === 0 ? 'urn:uuid:patient' : `urn:uuid:r${i}`,
          resource,
          request: { method: 'PUT', url: `${resource.resourceType}` },
        })),
      };
    }
    const message = fhirMessage(
      person,
      sender,
      'task-update',
      resources as unknown as Record<string, unknown>[],
    );
    const entries = message.entry as Array<{ resource: { resourceType: string } }>;
    entries.find((e) => e.resource.resourceType === 'Patient')!.resource = patient;
    return message;
  }

  function task(
    identifier: { system: string; value: string },
    owner: string,
    description = 'Check in',
  ): Task {
    return {
      resourceType: 'Task',
      identifier: [identifier],
      status: 'requested',
      intent: 'order',
      // A step the owner holds the right to open (housing agencies do not reconcile medications).
      code: {
        coding: [
          {
            system: TASK_CODE,
            code: owner === 'Organization/harbor-housing' ? 'housing-follow-up' : 'medication-reconciliation',
          },
        ],
      },
      description,
      focus: { reference: 'urn:uuid:patient' },
      for: { reference: 'urn:uuid:patient' },
      owner: { reference: owner },
      restriction: { period: { end: '2026-03-16T17:00:00-05:00' } },
    };
  }

  /** Resources of `type` holding `system|value` as an identifier, or as a tag when `param` says so. */
  async function count(type: string, system: string, value: string, param = 'identifier'): Promise<number> {
    return (await hub.fhir.search(type, { [param]: `${system}|${value}` })).length;
  }

  /** Sends and expects `status` naming the rule; then proves the server holds nothing under `probe`. */
  async function refused(
    sender: PartnerId,
    format: 'fhir-message' | 'fhir-transaction',
    body: object,
    rule: RegExp,
    probes: ReadonlyArray<readonly [string, string, string] | readonly [string, string, string, string]>,
    status = 403,
  ): Promise<void> {
    const answer = await call('POST', `/ingest/${sender}/${format}?wait=20`, sender, body);
    expect({ status: answer.status, body: JSON.stringify(answer.body) }).toEqual({
      status,
      body: expect.stringMatching(rule),
    });
    for (const [type, system, value, param] of probes) {
      expect(await count(type, system, value, param)).toBe(0);
    }
  }

  /**
   * What a type only the hub writes gets: refused (403) inside a message, which is one unit; inside
   * a transaction or batch, left out with a warning while the rest applies (a conformant EHR export
   * carries its own CareTeam and Provenance). Either way nothing of it is written.
   */
  const hubOwned = (format: 'fhir-message' | 'fhir-transaction'): [RegExp, number] =>
    format === 'fhir-message'
      ? [/resource-type/, 403]
      : [/the hub alone writes|not a resource the hub coordinates/, 200];

  describe('write boundary (inbound records)', () => {
    const cases: Array<[string, PartnerId, 'fhir-message' | 'fhir-transaction', string]> = [];
    for (const [sender, format] of FHIR_SENDERS) {
      for (const victim of PARTNERS.filter((p) => p !== sender)) {
        cases.push([`a Task in ${victim}'s identifier namespace`, sender, format, victim]);
        cases.push([`a Task owned by ${victim}`, sender, format, victim]);
        cases.push([`the participant named by ${victim}'s MRN`, sender, format, victim]);
        cases.push([`${victim} put on the care team through a CareTeam`, sender, format, victim]);
        cases.push([`a Consent naming the sender for ${victim}'s records`, sender, format, victim]);
      }
      cases.push([`the hub's acknowledgment Task identifier`, sender, format, 'hub']);
      for (const code of [
        'acknowledge-plan-change',
        'escalation-review',
        'huddle-action',
        'assign-coordinator',
      ]) {
        cases.push([`a Task coded ${code}, which only the hub opens`, sender, format, 'hub']);
      }
      for (const type of [
        'Provenance',
        'AuditEvent',
        'Subscription',
        'Organization',
        'Practitioner',
        'Patient',
      ]) {
        cases.push([`a ${type} resource`, sender, format, 'hub']);
      }
    }

    it.each(cases)(
      '%s, sent by %s as %s, is refused and writes nothing',
      async (what, sender, format, victim) => {
        const person = newPerson();
        const value = unique('v');
        const own = { system: sid(sender, 'task'), value };
        if (what.startsWith('a Task in')) {
          const id = { system: sid(victim, 'task'), value };
          await refused(
            sender,
            format,
            bundle(sender, format, person, [task(id, `Organization/${sender}`)]),
            /identifier-namespace/,
            [['Task', id.system, id.value]],
          );
        } else if (what.startsWith('a Task owned')) {
          await refused(
            sender,
            format,
            bundle(sender, format, person, [task(own, `Organization/${victim}`)]),
            /task-owner/,
            [['Task', own.system, own.value]],
          );
        } else if (what.startsWith('the participant')) {
          const mrn = { system: sid(victim, 'mrn'), value };
          await refused(
            sender,
            format,
            bundle(sender, format, person, [task(own, `Organization/${sender}`)], [mrn]),
            /identifier-namespace/,
            [
              ['Patient', mrn.system, mrn.value],
              ['Task', own.system, own.value],
            ],
          );
        } else if (what.includes('care team')) {
          const team: CareTeam = {
            resourceType: 'CareTeam',
            identifier: [{ system: sid(sender, 'care-team'), value }],
            subject: { reference: 'urn:uuid:patient' },
            participant: [{ member: { reference: `Organization/${victim}` } }],
          };
          const [rule, status] = hubOwned(format);
          await refused(
            sender,
            format,
            bundle(sender, format, person, [team]),
            rule,
            [['CareTeam', sid(sender, 'care-team'), value]],
            status,
          );
        } else if (what.startsWith('a Consent')) {
          const consent = {
            resourceType: 'Consent',
            identifier: [{ system: sid(sender, 'consent'), value }],
            status: 'active',
            scope: { text: 'patient-privacy' },
            category: [{ text: 'consent' }],
            patient: { reference: 'urn:uuid:patient' },
            provision: {
              type: 'permit',
              actor: [{ role: { text: 'IRCP' }, reference: { reference: `Organization/${sender}` } }],
            },
          } as Resource;
          const [rule, status] = hubOwned(format);
          await refused(
            sender,
            format,
            bundle(sender, format, person, [consent]),
            rule,
            [['Consent', sid(sender, 'consent'), value]],
            status,
          );
        } else if (what.startsWith('a Task coded')) {
          const code = /^a Task coded ([a-z-]+),/.exec(what)![1]!;
          const forged = task(own, `Organization/${sender}`);
          forged.code = { coding: [{ system: TASK_CODE, code }] };
          await refused(
            sender,
            format,
            bundle(sender, format, person, [forged]),
            /only the hub|opened by the hub/,
            [['Task', own.system, own.value]],
          );
        } else if (what.startsWith("the hub's")) {
          const ack = { system: sid('hub', 'ack-task'), value: `${sender}.${value}.1` };
          await refused(
            sender,
            format,
            bundle(sender, format, person, [task(ack, `Organization/${sender}`)]),
            /hub's namespace/,
            [['Task', ack.system, ack.value]],
          );
        } else {
          const type = /^a (\w+) resource$/.exec(what)![1]!;
          // Tagged, so the probe finds it whatever search parameters the type has.
          const tag = { system: sid(sender, 'probe'), code: value };
          const resource = {
            resourceType: type,
            meta: { tag: [tag] },
            identifier: [{ system: sid(sender, type.toLowerCase()), value }],
          } as Resource;
          // A type the hub does not coordinate is skipped, reported, in any FHIR format (the
          // sender's file does not say store); one only the hub writes as hubOwned says.
          const [rule, status]: [RegExp, number] =
            type === 'Practitioner' ? [/not a resource the hub coordinates/, 200] : hubOwned(format);
          await refused(
            sender,
            format,
            bundle(sender, format, person, [resource]),
            type === 'Patient' ? /one participant/ : rule,
            [[type, tag.system, tag.code, '_tag']],
            // A second participant is a defect in the bundle (422), not a trespass.
            type === 'Patient' ? 422 : status,
          );
        }
      },
    );

    it.each(FHIR_SENDERS.flatMap(([s, f]) => PARTNERS.filter((p) => p !== s).map((v) => [s, f, v] as const)))(
      "%s (%s) reusing %s's own Task identifier writes its own Task and leaves the other's unchanged",
      async (sender, format, victim) => {
        const person = newPerson();
        const shared = { system: `https://${victim}.example.org/task`, value: unique('T') };
        const victimFormat = FHIR_SENDERS.find(([p]) => p === victim)![1];
        const first = await call(
          'POST',
          `/ingest/${victim}/${victimFormat}?wait=30`,
          victim,
          bundle(victim, victimFormat, person, [task(shared, `Organization/${victim}`, 'the original')]),
        );
        expect({ status: first.status, body: first.body }).toMatchObject({ status: 200 });
        const before = await hub.fhir.search<Task>('Task', {
          identifier: `${shared.system}|${shared.value}`,
        });
        expect(before).toHaveLength(1);
        const second = await call(
          'POST',
          `/ingest/${sender}/${format}?wait=30`,
          sender,
          bundle(sender, format, person, [task(shared, `Organization/${sender}`, 'overwritten')]),
        );
        expect({ status: second.status, body: second.body }).toMatchObject({ status: 200 });
        const victimTask = await hub.fhir.read<Task>('Task', before[0]!.id!);
        expect(victimTask.description).toBe('the original');
        expect(victimTask.meta?.versionId).toBe(before[0]!.meta?.versionId);
        expect(victimTask.owner?.reference).toBe(`Organization/${victim}`);
      },
    );
  });

  describe('routes: a token acts only as its own partner, on its own participants', () => {
    /** Per partner: a participant only it is on the care team of, a CarePlan and a Task of its own. */
    const planOf = new Map<PartnerId, { patient: string; carePlan: string; task: string }>();

    beforeAll(async () => {
      for (const owner of PARTNERS) {
        const person = newPerson();
        const format = FHIR_SENDERS.find(([p]) => p === owner)![1];
        const own = { system: sid(owner, 'task'), value: unique('T') };
        const answer = await call(
          'POST',
          `/ingest/${owner}/${format}?wait=30`,
          owner,
          bundle(owner, format, person, [task(own, `Organization/${owner}`)]),
        );
        expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
        const [t] = await hub.fhir.search<Task>('Task', { identifier: `${own.system}|${own.value}` });
        const patient = t!.for!.reference!;
        const stored = await hub.fhir.create<CarePlan>({
          resourceType: 'CarePlan',
          identifier: [{ system: sid(owner, 'plan'), value: unique('plan') }],
          status: 'active',
          intent: 'plan',
          subject: { reference: patient },
          author: { reference: `Organization/${owner}` },
        });
        const team = await hub.fhir.search<CareTeam>('CareTeam', {
          identifier: `${sid('hub', 'care-team')}|${patient.split('/')[1]}`,
        });
        if (team.length === 0) {
          await hub.fhir.create<CareTeam>({
            resourceType: 'CareTeam',
            identifier: [{ system: sid('hub', 'care-team'), value: patient.split('/')[1]! }],
            status: 'active',
            subject: { reference: patient },
            participant: [{ member: { reference: `Organization/${owner}` } }],
          });
        }
        planOf.set(owner, { patient, carePlan: stored.id!, task: t!.id! });
      }
    });

    const pairs = PARTNERS.flatMap((a) => PARTNERS.filter((b) => b !== a).map((b) => [a, b] as const));

    it.each(pairs)('%s cannot send as %s', async (attacker, victim) => {
      const answer = await call(
        'POST',
        `/ingest/${victim}/fhir-message`,
        attacker,
        bundle(victim, 'fhir-message', newPerson(), []),
      );
      expect(answer.status).toBe(403);
    });

    it.each(pairs)('%s cannot acknowledge for %s', async (attacker, victim) => {
      const target = planOf.get(victim)!;
      const answer = await call('POST', `/partners/${victim}/acknowledgments`, attacker, {
        carePlan: `CarePlan/${target.carePlan}`,
        version: '1',
      });
      expect(answer.status).toBe(403);
    });

    it.each(pairs)("%s cannot list %s's Tasks", async (attacker, victim) => {
      expect((await call('GET', `/partners/${victim}/tasks`, attacker)).status).toBe(403);
    });

    it.each(pairs)("%s cannot read the status of %s's batch", async (attacker, victim) => {
      const sent = await call(
        'POST',
        `/ingest/${victim}/fhir-message`,
        victim,
        bundle(victim, 'fhir-message', newPerson(), []),
        'application/fhir+json',
        { prefer: 'respond-async' },
      );
      expect(sent.status).toBe(202);
      const location = sent.headers.get('content-location')!;
      expect((await call('GET', location, victim)).status).not.toBe(404);
      expect((await call('GET', location, attacker)).status).toBe(403);
      const underOwnName = location.replace(`/ingest/${victim}/`, `/ingest/${attacker}/`);
      expect((await call('GET', underOwnName, attacker)).status).toBe(404);
    });

    it.each(pairs)("%s cannot read, replay or end %s's subscription", async (attacker, victim) => {
      const created = await call('POST', '/fhir/Subscription', victim, {
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'trust boundary',
        criteria: 'https://carecoord.example.org/fhir/SubscriptionTopic/careplan-changed',
        channel: { type: 'rest-hook', endpoint: `http://127.0.0.1:3000/demo/inbox/${victim}/notify` },
      });
      expect(created.status).toBe(201);
      const id = (created.body as { id: string }).id;
      expect((await call('GET', `/fhir/Subscription/${id}`, victim)).status).toBe(200);
      for (const path of [
        `/fhir/Subscription/${id}`,
        `/fhir/Subscription/${id}/$events`,
        `/fhir/Subscription/${id}/$status`,
      ]) {
        expect((await call('GET', path, attacker)).status).toBe(404);
      }
      expect((await call('GET', `/fhir/Subscription/${id}`, undefined)).status).toBe(401);
      // Ending one needs system/Subscription.d, which no partner here was granted.
      expect((await call('DELETE', `/fhir/Subscription/${id}`, victim)).status).toBe(403);
    });

    it.each(pairs)("%s cannot close %s's Task, as itself or as the owner", async (attacker, victim) => {
      const target = planOf.get(victim)!;
      const before = await hub.fhir.read<Task>('Task', target.task);
      for (const by of [attacker, victim]) {
        const answer = await call('POST', `/tasks/${target.task}/report`, attacker, {
          outcome: 'completed',
          by,
        });
        expect(answer.status).toBe(403);
      }
      const after = await hub.fhir.read<Task>('Task', target.task);
      expect(after.meta?.versionId).toBe(before.meta?.versionId);
    });

    it.each(pairs)("%s cannot read %s's participant, plan or Task", async (attacker, victim) => {
      const target = planOf.get(victim)!;
      for (const path of [
        `/fhir/${target.patient}`,
        `/fhir/CarePlan/${target.carePlan}`,
        `/fhir/Task/${target.task}`,
      ]) {
        expect((await call('GET', path, attacker)).status).toBe(403);
      }
    });

    it.each(pairs)("%s cannot see who received %s's plan", async (attacker, victim) => {
      const target = planOf.get(victim)!;
      const answer = await call('GET', `/careplans/${target.carePlan}/versions/1/deliveries`, attacker);
      expect(answer.status).toBe(403);
    });

    const encoded = [
      '..%2FCarePlan%2F1',
      '..%2F..%2Fmetadata',
      '%2E%2E%2FPatient%2F1',
      'x%3F_format%3Djson',
      '1%23frag',
    ];
    it.each(PARTNERS.flatMap((p) => encoded.map((id) => [p, id] as const)))(
      '%s: /tasks/%s/report is refused before the FHIR server sees it',
      async (attacker, id) => {
        const target = planOf.get(attacker)!;
        const plan = await hub.fhir.read<CarePlan>('CarePlan', target.carePlan);
        const answer = await call('POST', `/tasks/${id.replace('1', target.carePlan)}/report`, attacker, {
          outcome: 'completed',
          by: attacker,
        });
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(JSON.stringify(answer.body)).not.toContain('"resourceType":"CarePlan"');
        expect((await hub.fhir.read<CarePlan>('CarePlan', target.carePlan)).meta?.versionId).toBe(
          plan.meta?.versionId,
        );
      },
    );

    it('a Task owned by a person (an escalation review) cannot be closed by any partner', async () => {
      const target = planOf.get('sunrise-hcbs')!;
      const review = await hub.fhir.create<Task>({
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: TASK_CODE, code: 'escalation-review' }] },
        for: { reference: target.patient },
        owner: { display: 'Coordinator of the day' },
      });
      for (const p of PARTNERS) {
        expect(
          (await call('POST', `/tasks/${review.id}/report`, p, { outcome: 'completed', by: p })).status,
        ).toBe(403);
      }
      expect((await hub.fhir.read<Task>('Task', review.id!)).status).toBe('requested');
    });
  });

  describe('rest-hook callbacks', () => {
    async function secretOfDeployment(): Promise<string> {
      const redis = testRedis();
      try {
        return await sharedHookSecret(redis, prefix);
      } finally {
        redis.disconnect();
      }
    }

    it.each([
      ['no secret', undefined],
      ['a wrong secret', 'not-the-secret'],
      ['an empty secret', ''],
    ])('a notification with %s is refused (401) and routes nothing', async (_what, secret) => {
      const planId = unique('forged').slice(0, 40);
      const answer = await call(
        'PUT',
        `/hooks/fhir/CarePlan/${planId}`,
        undefined,
        { resourceType: 'CarePlan', id: planId, meta: { versionId: '99' } },
        'application/fhir+json',
        secret === undefined ? {} : { [HOOK_SECRET_HEADER]: secret },
      );
      expect(answer.status).toBe(401);
      expect(await hub.queues.planChanges.getJob(`careplan.${planId}.99`)).toBeUndefined();
    });

    it('a notification with the secret for a version the server does not hold takes no job id', async () => {
      const target = await hub.fhir.create<CarePlan>({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject: {
          reference: `Patient/${(await hub.fhir.create<Patient>({ resourceType: 'Patient' })).id}`,
        },
      });
      const answer = await call(
        'PUT',
        `/hooks/fhir/CarePlan/${target.id}`,
        undefined,
        { resourceType: 'CarePlan', id: target.id, meta: { versionId: '7' } },
        'application/fhir+json',
        { [HOOK_SECRET_HEADER]: await secretOfDeployment() },
      );
      expect(answer.status).toBe(200);
      expect(await hub.queues.planChanges.getJob(`careplan.${target.id}.7`)).toBeUndefined();
      await eventually(
        async () => (await hub.queues.planChanges.getJob(`careplan.${target.id}.1`)) !== undefined,
      );
    });

    /** Sends a new participant's service plan as the HCBS provider; answers the CarePlan's id. */
    async function planOfServicePlan(): Promise<string> {
      const ingested = await call(
        'POST',
        '/ingest/sunrise-hcbs/service-plan?wait=30',
        'sunrise-hcbs',
        servicePlan(newPerson()),
      );
      expect(ingested.status).toBe(200);
      return /CarePlan\/([\w-]+)/.exec(JSON.stringify(ingested.body))![1]!;
    }

    it("a notification that reaches the hub before its own write's answer does not take the version from the writer", async () => {
      // HAPI notifies at commit; under load the notification is handled before the writer has
      // read the transaction's answer, and its job was the version's, without the record's source.
      const secret = await secretOfDeployment();
      const original = hub.fhir.transaction.bind(hub.fhir);
      const transaction = jest
        .spyOn(hub.fhir, 'transaction')
        .mockImplementation(
          async (bundle: Parameters<typeof original>[0], opts?: Parameters<typeof original>[1]) => {
            const answer = await original(bundle, opts);
            // What HAPI's rest-hook sends: the version as stored (the write asked for it back).
            const plan = answer.entry?.find((e) => e.resource?.resourceType === 'CarePlan')?.resource;
            if (plan) {
              await call('PUT', `/hooks/fhir/CarePlan/${plan.id}`, undefined, plan, 'application/fhir+json', {
                [HOOK_SECRET_HEADER]: secret,
              });
            }
            return answer;
          },
        );
      const vread = jest.spyOn(hub.fhir, 'vread');
      const planId = await planOfServicePlan().finally(() => transaction.mockRestore());
      const job = await hub.queues.planChanges.getJob(`careplan.${planId}.1`);
      expect(job?.data).toMatchObject({ detectedBy: 'hub-write', sourceProvenance: expect.any(String) });
      // The version is attributed to the partner that sent it, which is not sent its own change.
      await eventually(async () => (await job!.isCompleted()) === true);
      // Neither the notification nor the capture read back the version the hub wrote.
      expect(vread.mock.calls.filter(([, id]) => id === planId)).toEqual([]);
      vread.mockRestore();
      const provenance = await hub.fhir.read<Provenance>('Provenance', `plan-${planId}-v1`);
      expect(provenance.agent[0]?.who?.reference).toBe('Organization/sunrise-hcbs');
    });

    it('a notification of an acknowledgment Task reporting no step (the hub opening it) reads nothing', async () => {
      const id = unique('ack').slice(0, 40);
      const task = {
        resourceType: 'Task',
        id,
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: TASK_CODE, code: 'acknowledge-plan-change' }] },
      };
      const secret = await secretOfDeployment();
      const notify = (body: object): Promise<Answer> =>
        call('PUT', `/hooks/fhir/Task/${id}`, undefined, body, 'application/fhir+json', {
          [HOOK_SECRET_HEADER]: secret,
        });
      const read = jest.spyOn(hub.fhir, 'read');
      const readsOfTask = (): number => read.mock.calls.filter(([, rid]) => rid === id).length;
      try {
        expect((await notify(task)).status).toBe(200);
        expect(readsOfTask()).toBe(0);
        // One reporting a step is a hint to read the Task, as before.
        await notify({ ...task, status: 'completed' });
        expect(readsOfTask()).toBe(1);
      } finally {
        read.mockRestore();
      }
    });

    it('a notification of a version the hub wrote itself is believed without reading the version back', async () => {
      const planId = await planOfServicePlan();
      const vread = jest.spyOn(hub.fhir, 'vread');
      try {
        const answer = await call(
          'PUT',
          `/hooks/fhir/CarePlan/${planId}`,
          undefined,
          { resourceType: 'CarePlan', id: planId, meta: { versionId: '1' } },
          'application/fhir+json',
          { [HOOK_SECRET_HEADER]: await secretOfDeployment() },
        );
        expect(answer.status).toBe(200);
        expect(vread.mock.calls.filter(([, id]) => id === planId)).toEqual([]);
      } finally {
        vread.mockRestore();
      }
      expect(await hub.queues.planChanges.getJob(`careplan.${planId}.1`)).toBeDefined();
    });
  });

  describe('care-team membership is a recorded decision', () => {
    const adminToken = 'trust-boundary-admin-token-0123456789';

    /** The shared CareTeam of the participant named by `person`'s Medicaid ID (or SSN). */
    async function teamOf(person: Person, bySsn = false): Promise<CareTeam | undefined> {
      const [patient] = await hub.fhir.search<Patient>('Patient', {
        identifier: bySsn
          ? `http://hl7.org/fhir/sid/us-ssn|${person.ssn}`
          : `${MEDICAID_SYSTEM}|${person.medicaid}`,
      });
      expect(patient).toBeDefined();
      const [team] = await hub.fhir.search<CareTeam>('CareTeam', {
        identifier: `${sid('hub', 'care-team')}|${patient!.id}`,
      });
      return team;
    }

    it('a join through a record kind the partner file names is written with a notice for the coordinators', async () => {
      const person = newPerson();
      const answer = await call(
        'POST',
        '/ingest/northside-bh/hl7v2-adt?wait=30',
        'northside-bh',
        adt(person, { trigger: 'A01', controlId: unique('C'), visitNumber: unique('V') }),
        'application/hl7-v2',
      );
      expect(answer.status).toBe(200);
      const team = await teamOf(person);
      expect(team!.participant?.map((p) => p.member?.reference)).toContain('Organization/northside-bh');
      const notices = await hub.fhir.search<Communication>('Communication', {
        subject: team!.subject!.reference!,
        category: `${IDENTIFIER_BASE}/fhir/CodeSystem/hub-communication-category|care-team-change`,
      });
      expect(notices.map((n) => n.payload?.[0]?.contentString)).toEqual([
        expect.stringContaining('northside-bh joined the shared care team through hl7v2-adt'),
      ]);
    });

    it('a record kind the partner file does not name is applied without the join', async () => {
      const person = newPerson();
      const answer = await call(
        'POST',
        '/ingest/harbor-housing/hmis-csv?wait=30',
        'harbor-housing',
        hmisZip(person),
        'application/zip',
      );
      expect(answer.status).toBe(200);
      const members = (await teamOf(person, true))?.participant?.map((p) => p.member?.reference) ?? [];
      expect(members).not.toContain('Organization/harbor-housing');
    });

    it('staff end a membership: the agency then reads nothing about the participant', async () => {
      const person = newPerson();
      await call(
        'POST',
        '/ingest/northside-bh/hl7v2-adt?wait=30',
        'northside-bh',
        adt(person, { trigger: 'A01', controlId: unique('C'), visitNumber: unique('V') }),
        'application/hl7-v2',
      );
      const team = await teamOf(person);
      const patient = team!.subject!.reference!;
      expect((await call('GET', `/fhir/${patient}`, 'northside-bh')).status).toBe(200);
      const ended = await call(
        'POST',
        `/${patient.replace('Patient', 'participants')}/care-team/northside-bh/end`,
        undefined,
        { reason: 'Referred in error' },
        'application/json',
        { authorization: `Bearer ${adminToken}` },
      );
      expect(ended.status).toBe(200);
      expect((await call('GET', `/fhir/${patient}`, 'northside-bh')).status).toBe(403);
      // A partner cannot end (or start) a membership itself.
      expect(
        (
          await call(
            'POST',
            `/${patient.replace('Patient', 'participants')}/care-team/sunrise-hcbs/end`,
            'northside-bh',
            {
              reason: 'x',
            },
          )
        ).status,
      ).toBe(401);
    });
  });
});
