/**
 * Issue 7 (42 CFR Part 2): records from a Part 2 program are labelled and reach another agency only
 * while the participant's Consent names it; disclosures and refusals are AuditEvents.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, Bundle, CarePlan, Communication, Task } from 'fhir/r4.js';
import { ackTaskIdentifier } from '../../../src/routing/acknowledge.js';
import { PART2_LABEL, REDISCLOSURE_NOTICE } from '../../../src/security/part2.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  dropPrefix,
  eventually,
  get,
  ingest,
  post,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import {
  fhirMessage,
  MEDICAID_SYSTEM,
  newPerson,
  recoveryPlan,
  servicePlan,
} from '../../fixtures/ingest/samples.js';
import { PartnerServer } from '../../support/partner-server.js';
import { partnerDir } from '../../support/config-dirs.js';

describe('42 CFR Part 2 consent', () => {
  const prefix = testPrefix();
  const sunrise = new PartnerServer('fhir-message');
  let hub: RunningHub;

  beforeAll(async () => {
    const sunriseUrl = await sunrise.start();
    const dir = partnerDir({
      'sunrise-hcbs': (p) => {
        p.outbound.url = sunriseUrl;
      },
      'northside-bh': (p) => {
        p.inbound.part2Program = true;
        delete p.outbound;
      },
      'harbor-housing': (p) => {
        delete p.outbound;
      },
    });
    hub = await startTestHub(prefix, { PARTNER_CONFIG_DIR: dir });
  });

  afterAll(async () => {
    await hub?.close();
    await sunrise.stop();
    await dropPrefix(prefix);
  });

  const deliveredTo = (carePlanId: string): Bundle[] =>
    sunrise.received
      .filter((r) => r.status === 200)
      .map((r) => JSON.parse(r.body) as Bundle)
      .filter((b) =>
        b.entry?.some((e) => e.resource?.resourceType === 'CarePlan' && e.resource.id === carePlanId),
      );

  async function status(carePlanId: string, version: string): Promise<string | undefined> {
    const list = (await get(hub, `/careplans/${carePlanId}/versions/${version}/deliveries`)).body as {
      partnerId: string;
      state: string;
    }[];
    return list.find((s) => s.partnerId === 'sunrise-hcbs')?.state;
  }

  it('withholds Part 2 data without consent, delivers it with labels and notice after, and stops after revocation', async () => {
    const person = newPerson();
    expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const message = fhirMessage(person, 'northside-bh', 'careplan-update', [
      recoveryPlan(person.tag, 'Weekly counselling'),
    ]);
    expect((await ingest(hub, 'northside-bh', 'fhir-message', message)).status).toBe(200);

    const [carePlan] = await hub.fhir.search<CarePlan>('CarePlan', {
      identifier: `https://northside-bh.example.org/plan|P-${person.tag}`,
    });
    expect(carePlan!.meta?.security).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: '42CFRPart2' })]),
    );
    await eventually(
      async () => (await status(carePlan!.id!, '1')) === 'withheld',
      30000,
      'version 1 withheld',
    );
    expect(deliveredTo(carePlan!.id!)).toHaveLength(0);
    const [patient] = await hub.fhir.search('Patient', {
      identifier: `${MEDICAID_SYSTEM}|${person.medicaid}`,
    });
    const refused = await hub.fhir.search<AuditEvent>('AuditEvent', {
      agent: 'Organization/sunrise-hcbs',
      entity: `CarePlan/${carePlan!.id}`,
    });
    expect(refused.some((a) => a.outcome === '4' && a.outcomeDesc?.includes('42 CFR Part 2'))).toBe(true);

    // Consent recorded: what was withheld goes out, labelled, with the redisclosure notice.
    const granted = await post(hub, `/participants/${patient!.id}/consents`, { recipient: 'sunrise-hcbs' });
    expect(granted.status).toBe(201);
    expect((granted.body as { released: number }).released).toBe(1);
    const [bundle] = await eventually(async () =>
      deliveredTo(carePlan!.id!).length > 0 ? deliveredTo(carePlan!.id!) : undefined,
    );
    const sentPlan = bundle!.entry!.find((e) => e.resource?.resourceType === 'CarePlan')!
      .resource as CarePlan;
    expect(sentPlan.meta?.security).toEqual(expect.arrayContaining([expect.objectContaining(PART2_LABEL)]));
    const notice = bundle!.entry!.find((e) => e.resource?.resourceType === 'Communication')!
      .resource as Communication;
    expect(notice.payload?.map((p) => p.contentString)).toContain(REDISCLOSURE_NOTICE);
    await eventually(
      async () => {
        const audits = await hub.fhir.search<AuditEvent>('AuditEvent', {
          agent: 'Organization/sunrise-hcbs',
          entity: `CarePlan/${carePlan!.id}`,
        });
        return audits.some((a) => a.outcome === '0' && a.type.code === '110106');
      },
      10000,
      'disclosure AuditEvent',
    );

    // Revoked while version 2 waits in the queue: it is not sent.
    const queue = hub.queues.deliveries.get('sunrise-hcbs')!;
    await queue.pause();
    try {
      const v2 = fhirMessage(person, 'northside-bh', 'careplan-update', [
        recoveryPlan(person.tag, 'Counselling twice a week'),
      ]);
      expect((await ingest(hub, 'northside-bh', 'fhir-message', v2)).status).toBe(200);
      await eventually(async () => (await queue.getWaitingCount()) > 0, 30000, 'version 2 queued');
      const consentId = (granted.body as { consent: { id: string } }).consent.id;
      expect((await post(hub, `/consents/${consentId}/revoke`, {})).status).toBe(200);
    } finally {
      await queue.resume();
    }
    await eventually(
      async () => (await status(carePlan!.id!, '2')) === 'withheld',
      30000,
      'version 2 withheld',
    );
    expect(deliveredTo(carePlan!.id!)).toHaveLength(1);

    // Consented again: version 2 goes out now, and its acknowledgment (asked when it was first
    // queued) gets a full window from now, with a deadline job for that new due time.
    const releasedAt = Date.now();
    expect(
      (await post(hub, `/participants/${patient!.id}/consents`, { recipient: 'sunrise-hcbs' })).status,
    ).toBe(201);
    await eventually(
      async () => (await status(carePlan!.id!, '2')) === 'delivered',
      30000,
      'version 2 delivered',
    );
    const ackId = ackTaskIdentifier('https://carecoord.example.org', 'sunrise-hcbs', carePlan!.id!, '2');
    const [task] = await hub.fhir.search<Task>('Task', { identifier: `${ackId.system}|${ackId.value}` });
    const due = new Date(task!.restriction!.period!.end!).getTime();
    expect(due).toBeGreaterThanOrEqual(releasedAt + 24 * 3600_000);
    const deadlines = await hub.queues.acknowledgments.getDelayed();
    expect(deadlines.map((j) => j.id)).toContain(`ack-deadline.${task!.id}.${due}`);
  });

  it('labels and gates what is derived from Part 2 content: notice, acknowledgment Task, identifiers, recipients', async () => {
    const person = newPerson();
    expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const mrn = { system: 'https://carecoord.example.org/sid/northside-bh/mrn', value: `MRN-${person.tag}` };
    const message = fhirMessage(person, 'northside-bh', 'careplan-update', [
      recoveryPlan(person.tag, 'Medication-assisted treatment'),
    ]);
    const entries = message.entry as Array<{ resource: { resourceType: string; identifier?: unknown[] } }>;
    entries.find((e) => e.resource.resourceType === 'Patient')!.resource.identifier!.push(mrn);
    expect((await ingest(hub, 'northside-bh', 'fhir-message', message)).status).toBe(200);
    const [carePlan] = await hub.fhir.search<CarePlan>('CarePlan', {
      identifier: `https://northside-bh.example.org/plan|P-${person.tag}`,
    });
    await eventually(async () => (await status(carePlan!.id!, '1')) === 'withheld', 30000, 'withheld');

    // The notice describes the Part 2 change: it is labelled like the plan.
    const [notice] = await hub.fhir.search<Communication>('Communication', {
      identifier: `https://carecoord.example.org/sid/hub/plan-change-notice|${carePlan!.id}.1`,
    });
    expect(notice!.meta?.security).toEqual(expect.arrayContaining([expect.objectContaining(PART2_LABEL)]));
    // No acknowledgment is asked of a partner the plan may not reach.
    const ackId = ackTaskIdentifier('https://carecoord.example.org', 'sunrise-hcbs', carePlan!.id!, '1');
    expect(await hub.fhir.search('Task', { identifier: `${ackId.system}|${ackId.value}` })).toHaveLength(0);

    const [patient] = await hub.fhir.search('Patient', {
      identifier: `${MEDICAID_SYSTEM}|${person.medicaid}`,
    });
    expect(
      (await post(hub, `/participants/${patient!.id}/consents`, { recipient: 'sunrise-hcbs' })).status,
    ).toBe(201);
    const [bundle] = await eventually(async () =>
      deliveredTo(carePlan!.id!).length > 0 ? deliveredTo(carePlan!.id!) : undefined,
    );
    // Once consented, the acknowledgment is asked for, and carries the label too.
    const [ack] = await eventually(async () => {
      const found = await hub.fhir.search<Task>('Task', { identifier: `${ackId.system}|${ackId.value}` });
      return found.length > 0 ? found : undefined;
    });
    expect(ack!.meta?.security).toEqual(expect.arrayContaining([expect.objectContaining(PART2_LABEL)]));
    // The program's own MRN and the other recipients stay out of what is disclosed.
    expect(JSON.stringify(bundle)).not.toContain(mrn.value);
    const sentNotice = bundle!.entry!.find((e) => e.resource?.resourceType === 'Communication')!
      .resource as Communication;
    expect(sentNotice.recipient?.map((r) => r.reference)).toEqual(['Organization/sunrise-hcbs']);
  });
});
