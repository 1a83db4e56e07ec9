/**
 * Issue 16: an HL7 A40 merge. The clinic registered one person twice (two MRNs); the HCBS provider
 * built its plan on the first record. The A40 names the surviving record in PID and the merged one
 * in MRG-1: the merged record's plan and visits follow the survivor, its care team joins the
 * survivor's, it stays inactive with a `replaced-by` link, both agencies are told, and a later
 * message still carrying the old MRN lands on the survivor.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CarePlan, CareTeam, Communication, Encounter, Patient } from 'fhir/r4.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  dropPrefix,
  ingest,
  outcomeOf,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { adt, IDENTIFIER_BASE, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';

const MRN_SYSTEM = `${IDENTIFIER_BASE}/sid/northside-bh/mrn`;
const VISIT_SYSTEM = `${IDENTIFIER_BASE}/sid/northside-bh/visit`;

describe('an HL7 A40 merge', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(prefix);
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  const send = async (message: string): Promise<void> => {
    const answer = await ingest(hub, 'northside-bh', 'hl7v2-adt', message, 'application/hl7-v2');
    expect(outcomeOf(answer)).toMatchObject({ status: 200 });
  };
  /** An ADT message whose PID-3 is the MRN alone (the second registration knew nothing else). */
  const withMrnOnly = (message: string, mrn: string): string =>
    message.replace(/PID\|1\|\|[^|]*\|/, `PID|1||${mrn}^^^NBH^MR|`);
  const patientByMrn = async (mrn: string): Promise<Patient> =>
    (await hub.fhir.search<Patient>('Patient', { identifier: `${MRN_SYSTEM}|${mrn}` }))[0]!;
  const visit = async (value: string): Promise<Encounter> =>
    (await hub.fhir.search<Encounter>('Encounter', { identifier: `${VISIT_SYSTEM}|${value}` }))[0]!;

  it('moves the merged record onto the survivor and tells both care teams', async () => {
    const person = newPerson();
    const secondMrn = `${person.mrn}-B`;
    // The first record: the clinic's admission and the HCBS provider's plan.
    await send(
      adt(person, { trigger: 'A01', controlId: `M1-${person.tag}`, visitNumber: `VA-${person.tag}` }),
    );
    expect(outcomeOf(await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person)))).toMatchObject({
      status: 200,
    });
    // The second registration of the same person, under another MRN only.
    await send(
      withMrnOnly(
        adt(person, { trigger: 'A01', controlId: `M2-${person.tag}`, visitNumber: `VB-${person.tag}` }),
        secondMrn,
      ),
    );
    const merged = await patientByMrn(person.mrn);
    const survivor = await patientByMrn(secondMrn);
    expect(merged.id).not.toBe(survivor.id);

    const a40 = withMrnOnly(
      adt(person, { trigger: 'A01', controlId: `M3-${person.tag}`, visitNumber: `VB-${person.tag}` }),
      secondMrn,
    )
      .replace('ADT^A01^ADT_A01', 'ADT^A40^ADT_A39')
      .replace('EVN|A01|', 'EVN|A40|')
      .replace(/PV1\|[^\r]*\r/, `MRG|${person.mrn}^^^NBH^MR\r`);
    await send(a40);

    const after = await hub.fhir.read<Patient>('Patient', merged.id!);
    expect(after.active).toBe(false);
    expect(after.link).toEqual([{ other: { reference: `Patient/${survivor.id}` }, type: 'replaced-by' }]);
    expect((await hub.fhir.read<Patient>('Patient', survivor.id!)).link).toEqual([
      { other: { reference: `Patient/${merged.id}` }, type: 'replaces' },
    ]);
    expect((await visit(`VA-${person.tag}`)).subject?.reference).toBe(`Patient/${survivor.id}`);
    const [plan] = await hub.fhir.search<CarePlan>('CarePlan', {
      identifier: `${IDENTIFIER_BASE}/sid/sunrise-hcbs/service-plan|SP-${person.tag}`,
    });
    expect(plan?.subject.reference).toBe(`Patient/${survivor.id}`);
    const [team] = await hub.fhir.search<CareTeam>('CareTeam', {
      identifier: `${IDENTIFIER_BASE}/sid/hub/care-team|${survivor.id}`,
    });
    const members = (team?.participant ?? []).map((p) => p.member?.reference);
    expect(members).toEqual(
      expect.arrayContaining(['Organization/northside-bh', 'Organization/sunrise-hcbs']),
    );
    const [notice] = await hub.fhir.search<Communication>('Communication', {
      identifier: `${IDENTIFIER_BASE}/sid/hub/merge-notice|${merged.id}.${survivor.id}`,
    });
    expect(notice?.recipient?.map((r) => r.reference)).toEqual(
      expect.arrayContaining(['Organization/northside-bh', 'Organization/sunrise-hcbs']),
    );

    // A message still carrying the old MRN is about the survivor.
    await send(
      withMrnOnly(
        adt(person, { trigger: 'A08', controlId: `M4-${person.tag}`, visitNumber: `VC-${person.tag}` }),
        person.mrn,
      ),
    );
    expect((await visit(`VC-${person.tag}`)).subject?.reference).toBe(`Patient/${survivor.id}`);
  });
});
