import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CarePlan, CareTeam, Communication, Patient, Task } from 'fhir/r4.js';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { HubConfig } from '../../../src/config/load-config.js';
import { changeResource } from '../../../src/fhir/change-resource.js';
import { hubIdentifier } from '../../../src/fhir/hub-identifiers.js';
import { CODE_SYSTEM, PROFILE } from '../../../src/fhir/profiles.js';
import { createLogger } from '../../../src/logging/logger.js';
import { startHub, type RunningHub } from '../../../src/startup/start-hub.js';
import { coordinationDir } from '../../support/config-dirs.js';
import { PartnerServer } from '../../support/partner-server.js';
import { testConfig, testGateway as testFhir, unique } from '../../support/test-env.js';

const IDENTIFIER_BASE = 'https://carecoord.example.org';
const SECRET = 'routing-test-signing-secret';
const role = (code: string) => [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code }] }];

/**
 * End to end against real HAPI and Redis, with three partners as real HTTP servers (one per
 * transport). Plans are written directly on HAPI: the hub sees them through its rest-hook.
 */
describe('plan-change routing', () => {
  const webhook = new PartnerServer('webhook', SECRET);
  const rest = new PartnerServer('fhir-rest');
  const message = new PartnerServer('fhir-message');
  const silent = new PartnerServer('webhook', SECRET);
  const flaky = new PartnerServer('webhook', SECRET);
  let hub: RunningHub;
  let config: HubConfig;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'routing-'));
    const partners = path.join(dir, 'partners');
    mkdirSync(partners);
    const partner = (id: string, lines: string[]): void =>
      writeFileSync(
        path.join(partners, `${id}.yaml`),
        [`id: ${id}`, `name: Partner ${id}`, ...lines].join('\n') + '\n',
      );
    const outbound = (transport: string, url: string, extra: string[] = []): string[] => [
      'outbound:',
      `  transport: ${transport}`,
      `  url: ${url}`,
      '  receives: [plan-change]',
      '  maxAttempts: 3',
      '  backoffMs: 200',
      ...extra.map((l) => `  ${l}`),
    ];
    partner('r-author', ['kind: hcbs-provider', 'inbound:', '  formats: [fhir-message]']);
    partner('r-webhook', [
      'kind: behavioral-health',
      'inbound:',
      '  formats: []',
      ...outbound('webhook', await webhook.start(), ['secretEnv: ROUTING_TEST_SECRET', 'ackWithinHours: 2']),
    ]);
    partner('r-rest', [
      'kind: housing',
      'inbound:',
      '  formats: []',
      ...outbound('fhir-rest', await rest.start()),
    ]);
    partner('r-message', [
      'kind: hcbs-provider',
      'inbound:',
      '  formats: [fhir-message]',
      ...outbound('fhir-message', await message.start()),
    ]);
    // Acknowledges nothing, and has two seconds to do it.
    partner('r-silent', [
      'kind: other',
      'inbound:',
      '  formats: []',
      ...outbound('webhook', await silent.start(), [
        'secretEnv: ROUTING_TEST_SECRET',
        'ackWithinHours: 0.0005',
      ]),
    ]);
    // Opens its circuit after two failures within ten seconds, probes again after 1.5 s.
    partner('r-flaky', [
      'kind: other',
      'inbound:',
      '  formats: []',
      ...outbound('webhook', await flaky.start(), [
        'secretEnv: ROUTING_TEST_SECRET',
        'circuit: { failureThreshold: 2, windowMs: 10000, cooldownMs: 1500 }',
      ]),
    ]);
    // The shipped rules, with r-author chairing every tier (48 h reviews) and calendars for no agency.
    const coordination = coordinationDir({
      'escalation-tiers.yaml': (tiers) => {
        for (const tier of Object.values<{ chair: Record<string, string> }>(tiers.tiers)) {
          tier.chair = { role: 'tier-chair', display: 'Review chair', organization: 'r-author' };
        }
        tiers.tiers.review.respondWithin = { hours: 48 };
      },
      'calendars.yaml': (calendars) => {
        calendars.agencies = {};
      },
    });
    config = testConfig({
      PARTNER_CONFIG_DIR: partners,
      COORDINATION_CONFIG_DIR: coordination,
      ROUTING_TEST_SECRET: SECRET,
    });
    hub = await startHub(
      config,
      createLogger((process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent'),
    );
  });

  afterAll(async () => {
    await hub?.close();
    await Promise.all([webhook, rest, message, silent, flaky].map((s) => s.stop()));
  });

  /** A participant with a shared CareTeam naming the given partners and today's coordinator. */
  async function participant(partnerIds: string[]): Promise<Patient> {
    const patient = await hub.fhir.create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: `${IDENTIFIER_BASE}/sid/medicaid`, value: unique('mcd') }],
    });
    // The hub's day (calendars.yaml timeZone), not UTC's: they differ every evening.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date());
    await hub.fhir.create<CareTeam>({
      resourceType: 'CareTeam',
      identifier: [hubIdentifier(IDENTIFIER_BASE, 'care-team', patient.id!)],
      status: 'active',
      subject: { reference: `Patient/${patient.id}` },
      participant: [
        ...partnerIds.map((id) => ({
          role: role('care-manager'),
          member: { reference: `Organization/${id}` },
        })),
        {
          role: role('coordinator-of-the-day'),
          member: { display: 'Casey Coordinator' },
          period: { start: today, end: today },
        },
      ],
    });
    return patient;
  }

  function plan(patient: Patient, description: string): CarePlan {
    return {
      resourceType: 'CarePlan',
      meta: { profile: [PROFILE.carePlan] },
      status: 'active',
      intent: 'plan',
      subject: { reference: `Patient/${patient.id}` },
      author: { reference: 'Organization/r-author' },
      activity: [
        { detail: { status: 'scheduled', description, performer: [{ reference: 'Organization/r-author' }] } },
      ],
    };
  }

  /** A FHIR message from r-message carrying one acknowledgment Communication, pointing as given. */
  function acknowledgmentMessage(
    patient: Patient,
    ackId: string,
    pointer: Pick<Communication, 'about' | 'basedOn'>,
  ): Record<string, unknown> {
    return {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        {
          resource: {
            resourceType: 'MessageHeader',
            id: unique('msg'),
            eventCoding: { system: CODE_SYSTEM.messageEvent, code: 'communication' },
            source: { endpoint: 'urn:r-message' },
            sender: { reference: 'Organization/r-message' },
          },
        },
        {
          fullUrl: 'urn:uuid:aaaaaaaa-0000-4000-8000-000000000001',
          resource: { resourceType: 'Patient', identifier: [patient.identifier![0]!] },
        },
        {
          resource: {
            resourceType: 'Communication',
            identifier: [{ system: 'urn:r-message:ack', value: ackId }],
            status: 'completed',
            category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'acknowledgment' }] }],
            subject: { reference: 'urn:uuid:aaaaaaaa-0000-4000-8000-000000000001' },
            ...pointer,
          },
        },
      ],
    };
  }

  /** Acknowledgment Tasks of one plan version (a reference search ignores the version, so filter). */
  async function ackTasks(planId: string, version: string): Promise<Task[]> {
    const all = await hub.fhir.search<Task>('Task', {
      code: `${CODE_SYSTEM.taskCode}|acknowledge-plan-change`,
      'based-on': `CarePlan/${planId}`,
    });
    return all.filter((t) => t.focus?.reference === `CarePlan/${planId}/_history/${version}`);
  }

  it("ignores an acknowledgment of another partner's Task, and never calls a written record rejected", async () => {
    const patient = await participant(['r-rest', 'r-message']);
    const carePlan = await hub.fhir.create(plan(patient, 'Meals delivered twice a week'));
    await waitFor(async () => (await ackTasks(carePlan.id!, '1')).length === 2, 30000);
    const restTask = (await ackTasks(carePlan.id!, '1')).find(
      (t) => t.owner?.reference === 'Organization/r-rest',
    )!;
    const ackId = unique('ack');
    const forged = acknowledgmentMessage(patient, ackId, { basedOn: [{ reference: `Task/${restTask.id}` }] });
    const answer = await request(hub.url)
      .post('/ingest/r-message/fhir-message?wait=30')
      .type('application/fhir+json')
      .send(JSON.stringify(forged));
    // The Communication is the partner's own record and is written; the Task is not its to close.
    expect(answer.status).toBe(200);
    const written = await hub.fhir.search<Communication>('Communication', {
      identifier: `urn:r-message:ack|${ackId}`,
    });
    expect(written).toHaveLength(1);
    expect((await hub.fhir.read<Task>('Task', restTask.id!)).status).toBe('requested');
    const rejected = await request(hub.url).get('/admin/rejected');
    expect(JSON.stringify(rejected.body)).not.toContain(ackId);
  });

  it('delivers a change made directly on HAPI to all three transports; each acknowledges its own way', async () => {
    const patient = await participant(['r-webhook', 'r-rest', 'r-message']);
    const carePlan = await hub.fhir.create(plan(patient, 'Daily personal care'));
    await waitFor(async () => (await ackTasks(carePlan.id!, '1')).length === 3, 30000);
    // The deliveries and the acknowledgment Tasks are written apart: wait for both.
    await waitFor(async () => {
      const states = await request(hub.url).get(`/careplans/${carePlan.id}/versions/1/deliveries`);
      const body = states.body as Array<{ state: string }>;
      return body.length === 3 && body.every((d) => d.state === 'delivered');
    }, 30000);

    for (const server of [webhook, rest, message]) {
      expect(
        server.received.filter((r) => r.version === '1' && r.status === 200).length,
      ).toBeGreaterThanOrEqual(1);
    }
    const tasks = await ackTasks(carePlan.id!, '1');
    expect(tasks.map((t) => t.owner?.reference).sort()).toEqual([
      'Organization/r-message',
      'Organization/r-rest',
      'Organization/r-webhook',
    ]);
    for (const t of tasks) {
      expect(await hub.fhir.validate(t)).toMatchObject({ resourceType: 'OperationOutcome' });
      expect(t.status).toBe('requested');
    }

    // the closed loop: all three delivered, none accepted yet
    const waiting = await request(hub.url).get(
      `/careplans/${carePlan.id}/versions/1/deliveries?notYet=accepted`,
    );
    expect(
      (waiting.body as Array<{ partnerId: string; state: string }>).map((d) => [d.partnerId, d.state]),
    ).toEqual([
      ['r-message', 'delivered'],
      ['r-rest', 'delivered'],
      ['r-webhook', 'delivered'],
    ]);

    // 1. through the hub's API, first saying it was received
    const received = await request(hub.url)
      .post('/partners/r-webhook/acknowledgments')
      .send({ carePlan: `CarePlan/${carePlan.id}`, version: '1', status: 'received' });
    expect(received.body.status).toBe('received');
    const api = await request(hub.url)
      .post('/partners/r-webhook/acknowledgments')
      .send({ carePlan: `CarePlan/${carePlan.id}`, version: '1' });
    expect(api.status).toBe(200);
    expect(api.body.status).toBe('completed');

    // 2. by completing the Task directly on the FHIR server (the hub sees it through its rest-hook)
    const restTask = tasks.find((t) => t.owner?.reference === 'Organization/r-rest')!;
    await hub.fhir.update<Task>({ ...restTask, status: 'completed' });

    // 3. by a FHIR message carrying an acknowledgment Communication
    const ackMessage = acknowledgmentMessage(patient, unique('ack'), {
      about: [{ reference: `CarePlan/${carePlan.id}/_history/1` }],
    });
    const processed = await request(hub.url)
      .post('/fhir/$process-message')
      .type('application/fhir+json')
      .send(JSON.stringify(ackMessage));
    expect(processed.status).toBe(200);
    expect(processed.body.entry[0].resource.response.code).toBe('ok');

    await waitFor(
      async () => (await ackTasks(carePlan.id!, '1')).every((t) => t.status === 'completed'),
      20000,
    );
    // the trail: a plan-change notice, a Provenance for the version, an acknowledgment notice per partner
    const notices = await hub.fhir.search<Communication>('Communication', {
      identifier: `${IDENTIFIER_BASE}/sid/hub/plan-change-notice|${carePlan.id}.1`,
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]!.recipient?.map((r) => r.reference).sort()).toEqual([
      'Organization/r-message',
      'Organization/r-rest',
      'Organization/r-webhook',
    ]);
    await hub.fhir.read('Provenance', `plan-${carePlan.id}-v1`);
    await waitFor(async () => {
      const res = await request(hub.url).get(`/careplans/${carePlan.id}/versions/1/deliveries`);
      return (res.body as Array<{ state: string }>).every((d) => d.state === 'completed');
    }, 20000);
    const loop = await request(hub.url).get(`/careplans/${carePlan.id}/versions/1/deliveries`);
    const webhookLoop = (loop.body as Array<{ partnerId: string; at: Record<string, string> }>).find(
      (d) => d.partnerId === 'r-webhook',
    )!;
    expect(Object.keys(webhookLoop.at).sort()).toEqual(['completed', 'delivered', 'received', 'sent']);
    await waitFor(async () => {
      const acks = await hub.fhir.search<Communication>('Communication', {
        category: `${CODE_SYSTEM.communicationCategory}|acknowledgment`,
        subject: `Patient/${patient.id}`,
      });
      return acks.filter((c) => c.recipient?.[0]?.reference === 'Organization/r-author').length >= 3;
    }, 20000);
  });

  it('takes one acknowledgment reported two ways at the same moment: each answered, one notice', async () => {
    // The partner completes its Task on the FHIR server (the rest-hook tells the hub) while it also
    // calls the acknowledgment API: both doors write the plan owner's notice at once.
    for (let round = 0; round < 6; round++) {
      const patient = await participant(['r-rest']);
      const carePlan = await hub.fhir.create(plan(patient, `Meals, round ${round}`));
      await waitFor(async () => (await ackTasks(carePlan.id!, '1')).length === 1, 30000);
      const [task] = await ackTasks(carePlan.id!, '1');
      const [api] = await Promise.all([
        request(hub.url)
          .post('/partners/r-rest/acknowledgments')
          .send({ carePlan: `CarePlan/${carePlan.id}`, version: '1' }),
        // As a partner's system would: a write that loses to the hub's own is read again and retried.
        changeResource<Task>(hub.fhir, task!, (t) =>
          t.status === 'completed' ? undefined : { ...t, status: 'completed' },
        ),
      ]);
      expect([api.status, api.body.status]).toEqual([200, 'completed']);
      const notices = (): Promise<Communication[]> =>
        hub.fhir.search<Communication>('Communication', {
          identifier: `${IDENTIFIER_BASE}/sid/hub/ack-notice|${task!.id}`,
        });
      await waitFor(async () => (await notices()).length > 0, 20000);
      await new Promise((r) => setTimeout(r, 1000)); // the rest-hook's report may still be writing
      expect(await notices()).toHaveLength(1);
    }
  });

  it('retries a partner answering 500 twice, delivering once in effect with one message id', async () => {
    const patient = await participant(['r-webhook']);
    const before = webhook.received.length;
    webhook.script = (n) => (n > before && n <= before + 2 ? { status: 500, body: 'busy' } : undefined);
    await hub.fhir.create(plan(patient, 'Meal delivery'));
    await waitFor(async () => webhook.received.slice(before).some((r) => r.status === 200), 30000);
    webhook.script = () => undefined;

    const attempts = webhook.received.slice(before);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((a) => a.messageId)).size).toBe(1);
    expect(webhook.applied.filter((id) => id === attempts[0]!.messageId)).toHaveLength(1);
  });

  it('dead-letters a partner down past the last attempt, and a replay delivers it', async () => {
    const patient = await participant(['r-rest']);
    rest.script = () => 'drop';
    const carePlan = await hub.fhir.create(plan(patient, 'Housing search'));
    const jobId = `delivery.r-rest.${carePlan.id}.1`;
    await waitFor(async () => {
      const res = await request(hub.url).get('/admin/dead-letters?queue=deliveries-r-rest');
      return (res.body as Array<{ jobId: string }>).some((d) => d.jobId === jobId);
    }, 30000);
    const letter = await request(hub.url).get(`/admin/dead-letters/deliveries-r-rest/${jobId}`);
    expect(letter.body.attemptsMade).toBe(3);
    expect((letter.body as { logs: string[] }).logs.join('\n')).toMatch(/ambiguous failure/);

    rest.script = () => undefined;
    const replay = await request(hub.url).post(`/admin/dead-letters/deliveries-r-rest/${jobId}/replay`);
    expect(replay.status).toBe(202);
    await waitFor(
      async () => rest.received.some((r) => r.status === 200 && r.body.includes(carePlan.id!)),
      30000,
    );
  });

  it('dead-letters at once a delivery the partner refuses with a 4xx, keeping its answer', async () => {
    const patient = await participant(['r-message']);
    // Refuse whatever is about this participant (the delivered plan names its subject).
    const marker = `Patient/${patient.id}`;
    message.script = (_n, body) =>
      body.includes(marker) ? { status: 422, body: '{"error":"unknown plan format"}' } : undefined;
    const carePlan = await hub.fhir.create(plan(patient, 'Transport'));
    const jobId = `delivery.r-message.${carePlan.id}.1`;
    await waitFor(
      async () =>
        (await request(hub.url).get(`/admin/dead-letters/deliveries-r-message/${jobId}`)).status === 200,
      30000,
    );
    message.script = () => undefined;
    const letter = await request(hub.url).get(`/admin/dead-letters/deliveries-r-message/${jobId}`);
    expect(letter.body.attemptsMade).toBe(1);
    expect(letter.body.failedReason).toContain('unknown plan format');
    expect(message.received.filter((r) => r.body.includes(marker))).toHaveLength(1);
  });

  it('never delivers an older version after a newer one', async () => {
    const patient = await participant(['r-webhook', 'r-rest']);
    const v1 = await hub.fhir.create(plan(patient, 'Step 1'));
    const v2 = await hub.fhir.update<CarePlan>({
      ...v1,
      description: 'second',
      activity: plan(patient, 'Step 2').activity,
    });
    await hub.fhir.update<CarePlan>({
      ...v2,
      description: 'third',
      activity: plan(patient, 'Step 3').activity,
    });
    await waitFor(async () => (await ackTasks(v1.id!, '3')).length === 2, 30000);
    // The Tasks and the deliveries are written apart: wait for version 3 itself too.
    const got3 = (server: PartnerServer): boolean =>
      server.received.some((r) => r.status === 200 && r.body.includes(v1.id!) && r.version === '3');
    await waitFor(() => Promise.resolve(got3(webhook) && got3(rest)), 30000);
    for (const server of [webhook, rest]) {
      const versions = server.received
        .filter((r) => r.status === 200 && r.body.includes(v1.id!))
        .map((r) => Number(r.version));
      expect(versions.length).toBeGreaterThanOrEqual(1);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(versions.at(-1)).toBe(3);
    }
  });

  it('holds deliveries to a failing partner behind an open circuit, lets it pull its Tasks, then delivers in order', async () => {
    const patient = await participant(['r-flaky']);
    flaky.script = () => ({ status: 503, body: 'maintenance' });
    const started = new Date().toISOString();
    const v1 = await hub.fhir.create(plan(patient, 'Day program'));
    // two failures open the circuit: the partner is told, and its pending work can be pulled
    let alerts: Communication[] = [];
    await waitFor(async () => {
      alerts = await hub.fhir.search<Communication>('Communication', {
        category: `${CODE_SYSTEM.communicationCategory}|integration-alert`,
        recipient: 'Organization/r-flaky',
      });
      return alerts.some((a) => (a.sent ?? '') >= started);
    }, 20000);
    await hub.fhir.update<CarePlan>({ ...v1, activity: plan(patient, 'Day program, weekdays').activity });
    await waitFor(async () => {
      const pending = await request(hub.url).get('/partners/r-flaky/tasks?status=requested');
      const entries = (pending.body as { entry?: Array<{ resource: Task }> }).entry ?? [];
      return entries.filter((e) => e.resource.basedOn?.[0]?.reference === `CarePlan/${v1.id}`).length === 2;
    }, 20000);

    // while open, the held delivery keeps its attempts (3 allowed) instead of dead-lettering
    const held = await hub.queues.deliveries.get('r-flaky')!.getJob(`delivery.r-flaky.${v1.id}.1`);
    expect(['delayed', 'waiting', 'active']).toContain(await held!.getState());
    expect(held!.attemptsMade).toBeLessThan(3);

    flaky.script = () => undefined; // the partner recovers; the probe after the cooldown succeeds
    await waitFor(async () => flaky.appliedVersions().includes('2'), 30000);
    const versions = flaky.appliedVersions().map(Number);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(await hub.queues.deliveries.get('r-flaky')!.getFailedCount()).toBe(0);
  });

  it('escalates a missed acknowledgment at its deadline to the coordinator of the day and the tier chair', async () => {
    const patient = await participant(['r-silent']);
    const carePlan = await hub.fhir.create(plan(patient, 'Night support'));
    await waitFor(async () => (await ackTasks(carePlan.id!, '1')).length === 1, 30000);
    const [ack] = await ackTasks(carePlan.id!, '1');
    let escalation: Task | undefined;
    await waitFor(async () => {
      [escalation] = await hub.fhir.search<Task>('Task', {
        code: `${CODE_SYSTEM.taskCode}|escalation-review`,
        focus: `Task/${ack!.id}`,
      });
      return escalation !== undefined;
    }, 30000);
    expect(escalation!.owner?.display).toBe('Casey Coordinator');
    expect(escalation!.requester?.reference).toBe('Organization/r-author');
    const [notice] = await hub.fhir.search<Communication>('Communication', {
      identifier: `${IDENTIFIER_BASE}/sid/hub/escalation-notice|missed-acknowledgment.Task-${ack!.id}`,
    });
    expect(notice!.recipient?.map((r) => r.display ?? r.reference)).toEqual([
      'Casey Coordinator',
      'Review chair (24-72 hour review chair)',
    ]);
  });

  it('finds the Task of a partner that acknowledges the moment the plan arrives', async () => {
    // The push goes out before the acknowledgment Tasks are written: an answer sent while the
    // push is still open can come first, and must not be told there is nothing to acknowledge.
    const patient = await participant(['r-webhook', 'r-rest', 'r-message']);
    const answers: Array<Promise<request.Response>> = [];
    const before = webhook.received.length;
    webhook.script = (n, body) => {
      const version = /_history\/(\d+)/.exec(body)?.[1];
      if (n > before && version) {
        const carePlan = /"CarePlan\/([^/"]+)/.exec(body)?.[1];
        answers.push(
          request(hub.url)
            .post('/partners/r-webhook/acknowledgments')
            .send({ carePlan: `CarePlan/${carePlan}`, version }),
        );
      }
      return undefined;
    };
    try {
      let carePlan = await hub.fhir.create(plan(patient, 'Answered at once'));
      for (const description of ['Answered at once, twice', 'Answered at once, three times']) {
        const delivered = Number(carePlan.meta!.versionId);
        await waitFor(async () => answers.length >= delivered, 30000);
        carePlan = await hub.fhir.update<CarePlan>({
          ...carePlan,
          activity: plan(patient, description).activity,
        });
      }
      await waitFor(async () => answers.length >= 3, 30000);
      const statuses = (await Promise.all(answers)).map((a) => [a.status, (a.body as Task).status]);
      expect(statuses).toEqual(statuses.map(() => [200, 'completed']));
    } finally {
      webhook.script = () => undefined;
    }
  });

  it('routes a change made on HAPI while no hub was running, once the hub is back', async () => {
    const patient = await participant(['r-webhook']);
    await hub.close();
    const carePlan = await testFhir().create(plan(patient, 'Written while the hub was down'));
    hub = await startHub(config, createLogger('silent'));
    await waitFor(
      async () => webhook.received.some((r) => r.status === 200 && r.body.includes(carePlan.id!)),
      30000,
    );
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
