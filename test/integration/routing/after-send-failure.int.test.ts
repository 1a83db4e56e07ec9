/**
 * Issue 15, item 7: after a plan change reached the partner, a failure of a later step (here the
 * disclosure AuditEvent) must not turn the delivered version into "superseded" on the retry, nor
 * lose the disclosure record. Issue 17: nor may a slow disclosure write hold up the partner's next
 * delivery. Real HAPI (behind a fault proxy) and Redis; the partner is a real HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, CarePlan } from 'fhir/r4.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  dropPrefix,
  eventually,
  get,
  ingest,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { adt, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { PartnerServer } from '../../support/partner-server.js';
import { fhirBaseUrl, unique } from '../../support/test-env.js';

/** What only a disclosure write carries: its AuditEvent id. */
const DISCLOSURE = '"disclosure-';

describe('a failure after the partner received the plan change', () => {
  const prefix = testPrefix();
  const northside = new PartnerServer('fhir-message');
  const proxy = new FaultProxy(fhirBaseUrl());
  let hub: RunningHub;

  beforeAll(async () => {
    const url = await northside.start();
    const dir = partnerDir({
      'northside-bh': (p) => {
        p.outbound.url = url;
        p.outbound.backoffMs = 200;
      },
      'harbor-housing': (p) => {
        delete p.outbound;
      },
      'sunrise-hcbs': (p) => {
        delete p.outbound;
      },
    });
    hub = await startTestHub(prefix, {
      PARTNER_CONFIG_DIR: dir,
      FHIR_BASE_URL: await proxy.start(),
      FHIR_RETRIES: '0',
    });
  });

  afterAll(async () => {
    await hub?.close();
    await northside.stop();
    await proxy.stop();
    await dropPrefix(prefix);
  });

  it('marks the version delivered and writes its disclosure once the retry finishes the bookkeeping', async () => {
    const person = newPerson();
    const admitted = await ingest(
      hub,
      'northside-bh',
      'hl7v2-adt',
      adt(person, { trigger: 'A01', controlId: unique('C'), visitNumber: unique('V') }),
      'application/hl7-v2',
    );
    expect(admitted.status).toBe(200);
    // The disclosure AuditEvent written after the send fails once.
    proxy.injectFor('POST', '/fhir', { kind: 'status', status: 500 }, DISCLOSURE);
    expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const [plan] = await hub.fhir.search<CarePlan>('CarePlan', {
      identifier: `https://carecoord.example.org/sid/sunrise-hcbs/service-plan|SP-${person.tag}`,
    });
    expect(plan).toBeDefined();
    const state = async (): Promise<string | undefined> =>
      (
        (await get(hub, `/careplans/${plan!.id}/versions/1/deliveries`)).body as Array<{
          partnerId: string;
          state: string;
        }>
      ).find((s) => s.partnerId === 'northside-bh')?.state;
    await eventually(async () => (await state()) === 'delivered', 30000, 'version 1 delivered');
    // The disclosure's write is retried until it is there, once.
    const disclosures = async (): Promise<AuditEvent[]> =>
      (
        await hub.fhir.search<AuditEvent>('AuditEvent', {
          agent: 'Organization/northside-bh',
          entity: `CarePlan/${plan!.id}`,
        })
      ).filter((a) => a.type.code === '110106');
    await eventually(async () => (await disclosures()).length > 0, 30000, 'the disclosure written');
    expect(await disclosures()).toHaveLength(1);
    expect(proxy.faulted).toHaveLength(1);
  });

  it("does not hold up the partner's next delivery while a disclosure is slow to write", async () => {
    const [first, second] = [newPerson(), newPerson()];
    for (const person of [first, second]) {
      const adtMessage = adt(person, { trigger: 'A01', controlId: unique('C'), visitNumber: unique('V') });
      expect((await ingest(hub, 'northside-bh', 'hl7v2-adt', adtMessage, 'application/hl7-v2')).status).toBe(
        200,
      );
    }
    // The first plan's disclosure is held at the FHIR server for a while (however it is written).
    const slow = { kind: 'delay', ms: 8000 } as const;
    proxy.injectFor('POST', '/fhir', slow, DISCLOSURE);
    proxy.injectFor('PUT', '/fhir/AuditEvent/disclosure-', slow);
    const planOf = async (person: typeof first): Promise<CarePlan> => {
      expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
      const [plan] = await hub.fhir.search<CarePlan>('CarePlan', {
        identifier: `https://carecoord.example.org/sid/sunrise-hcbs/service-plan|SP-${person.tag}`,
      });
      return plan!;
    };
    const received = (plan: CarePlan): boolean => northside.received.some((r) => r.body.includes(plan.id!));
    const firstPlan = await planOf(first);
    await eventually(async () => received(firstPlan), 30000, 'the first plan delivered');
    const secondPlan = await planOf(second);
    await eventually(async () => received(secondPlan), 30000, 'the second plan delivered');
    // The second went out while the first's disclosure was still on its way; it is written after.
    const disclosureOf = (plan: CarePlan) =>
      hub.fhir.search<AuditEvent>('AuditEvent', {
        agent: 'Organization/northside-bh',
        entity: `CarePlan/${plan.id}`,
      });
    expect(await disclosureOf(firstPlan)).toHaveLength(0);
    await eventually(async () => (await disclosureOf(firstPlan)).length === 1, 30000, 'the first disclosure');
  });
});
