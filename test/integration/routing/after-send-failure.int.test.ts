/**
 * Issue 15, item 7: after a plan change reached the partner, a failure of a later step (here the
 * disclosure AuditEvent) must not turn the delivered version into "superseded" on the retry, nor
 * lose the disclosure record. Real HAPI (behind a fault proxy) and Redis; the partner is a real
 * HTTP server.
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
    // The disclosure AuditEvent written right after the send fails once.
    proxy.injectFor('POST', '/fhir/AuditEvent', { kind: 'status', status: 500 });
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
    const disclosures = await hub.fhir.search<AuditEvent>('AuditEvent', {
      agent: 'Organization/northside-bh',
      entity: `CarePlan/${plan!.id}`,
    });
    expect(disclosures.filter((a) => a.type.code === '110106')).toHaveLength(1);
  });
});
