/**
 * Issue 3 acceptance: one sample of every inbound format, from the three demo agencies, about one
 * participant, against the real HAPI server and Redis through a started hub. The agencies link
 * the person through shared identifiers only: the Medicaid ID (HCBS provider and BH clinic) and
 * the SSN (BH clinic's PID-3 `SS` and the housing program's Client.csv SSN).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type {
  CarePlan,
  CareTeam,
  Communication,
  Encounter,
  Flag,
  Observation,
  Patient,
  Resource,
  Task,
} from 'fhir/r4.js';
import { hasErrors } from '../../../src/fhir/fhir-gateway.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  byIdentifier,
  dropPrefix,
  eventually,
  ingest,
  outcomeOf,
  post,
  responseOf,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import {
  adt,
  crisisUpdate,
  evvCsv,
  evvRow,
  fhirTaskMessage,
  hmisZip,
  IDENTIFIER_BASE,
  MEDICAID_SYSTEM,
  newPerson,
  servicePlan,
} from '../../fixtures/ingest/samples.js';

const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const sid = (partner: string, recordType: string): string =>
  `${IDENTIFIER_BASE}/sid/${partner}/${recordType}`;
const codesOf = (r: { code?: { coding?: Array<{ code?: string }> } }): string[] =>
  (r.code?.coding ?? []).map((c) => c.code ?? '');

describe('one participant known to three agencies, one sample of every format', () => {
  const prefix = testPrefix();
  const person = newPerson();
  const visit = `V-${person.tag}`;
  let hub: RunningHub;
  let hmis: Buffer;
  let a03: string;
  let message: Record<string, unknown>;
  let patientId: string;

  beforeAll(async () => {
    hub = await startTestHub(prefix);
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  it('applies HL7 ADT A01 then A03, a service plan, an HMIS export, EVV visits, a crisis update and a FHIR message', async () => {
    const hl7 = 'application/hl7-v2';
    const a01 = adt(person, { trigger: 'A01', controlId: `A01-${person.tag}`, visitNumber: visit });
    const admitted = await ingest(hub, 'northside-bh', 'hl7v2-adt', a01, hl7);
    expect(outcomeOf(admitted).diagnostics).toEqual([
      expect.stringMatching(/: applied as Patient\/.+, Encounter\//),
    ]);
    expect(admitted.status).toBe(200);

    a03 = adt(person, { trigger: 'A03', controlId: `A03-${person.tag}`, visitNumber: visit });
    expect(outcomeOf(await ingest(hub, 'northside-bh', 'hl7v2-adt', a03, hl7))).toMatchObject({
      status: 200,
    });

    // The plan comes before the housing loss: the loss opens a plan-change review, and a plan sent
    // after it must state its change control (coordination-rules.int.test.ts covers that).
    expect(outcomeOf(await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person)))).toMatchObject({
      status: 200,
    });

    hmis = hmisZip(person);
    const housing = await ingest(hub, 'harbor-housing', 'hmis-csv', hmis, 'application/zip');
    expect(outcomeOf(housing).diagnostics).toEqual([
      expect.stringMatching(/^Client\.csv row 2: applied as /),
    ]);
    expect(housing.status).toBe(200);

    // NS is the provider's local "no show": its code table makes it a missed visit.
    const visits = evvCsv(
      evvRow(person, `EVV-${person.tag}-1`, 'COMPLETED', '2025-03-03', true),
      evvRow(person, `EVV-${person.tag}-2`, 'NS', '2025-03-04'),
    );
    const evv = outcomeOf(await ingest(hub, 'sunrise-hcbs', 'evv-csv', visits, 'text/csv'));
    expect(evv).toMatchObject({ status: 200, diagnostics: [expect.any(String), expect.any(String)] });

    expect(outcomeOf(await ingest(hub, 'northside-bh', 'crisis-update', crisisUpdate(person)))).toMatchObject(
      {
        status: 200,
      },
    );

    const [encounter] = await byIdentifier<Encounter>(
      hub.fhir,
      'Encounter',
      sid('northside-bh', 'visit'),
      visit,
    );
    expect(encounter?.status).toBe('finished');
    message = fhirTaskMessage(person, 'northside-bh', `Encounter/${encounter!.id}`);
    const answer = await post(hub, '/fhir/$process-message', message, 'application/fhir+json');
    expect(answer.status).toBe(200);
    expect(responseOf(answer)?.code).toBe('ok');
  }, 180000);

  it('holds ONE Patient with the identifiers of all three agencies', async () => {
    const patients = await byIdentifier<Patient>(hub.fhir, 'Patient', MEDICAID_SYSTEM, person.medicaid);
    expect(patients).toHaveLength(1);
    const patient = patients[0]!;
    patientId = patient.id!;
    const held = (patient.identifier ?? []).map((i) => `${i.system}|${i.value}`);
    expect(held).toEqual(
      expect.arrayContaining([
        `${MEDICAID_SYSTEM}|${person.medicaid}`,
        `${SSN_SYSTEM}|${person.ssn}`,
        `${sid('sunrise-hcbs', 'member')}|${person.member}`,
        `${sid('northside-bh', 'mrn')}|${person.mrn}`,
        `${sid('harbor-housing', 'hmis-personal-id')}|${person.personalId}`,
      ]),
    );
    // Every shared identifier leads to the same Patient.
    for (const [system, value] of [
      [SSN_SYSTEM, person.ssn],
      [sid('harbor-housing', 'hmis-personal-id'), person.personalId],
      [sid('sunrise-hcbs', 'member'), person.member],
    ] as const) {
      expect((await byIdentifier<Patient>(hub.fhir, 'Patient', system, value)).map((p) => p.id)).toEqual([
        patientId,
      ]);
    }
  });

  it('has the shared CareTeam with all three partners, and the CarePlan, Tasks, Flags and Communications', async () => {
    const subject = `Patient/${patientId}`;
    const teams = await hub.fhir.search<CareTeam>('CareTeam', { subject });
    expect(teams).toHaveLength(1);
    const members = (teams[0]!.participant ?? []).map(
      (p) => `${p.member?.reference ?? p.member?.display}:${p.role?.[0]?.coding?.[0]?.code}`,
    );
    expect(members).toEqual(
      expect.arrayContaining([
        'Organization/northside-bh:bh-clinician',
        'Organization/sunrise-hcbs:provider-coordinator',
        'Organization/harbor-housing:housing-navigator',
      ]),
    );
    expect(
      teams[0]!.participant!.every((p) => p.role?.[0]?.coding?.[0]?.system === CODE_SYSTEM.careTeamRole),
    ).toBe(true);

    const carePlans = await hub.fhir.search<CarePlan>('CarePlan', { subject });
    expect(carePlans.map((c) => c.author?.reference)).toContain('Organization/sunrise-hcbs');

    // The crisis update's next-update Task is the rules', written by a job after the record's:
    // waited for, as the answer to the sender does not wait for the rules.
    const tasks = await eventually(
      async () => {
        const found = await hub.fhir.search<Task>('Task', { subject });
        return found.some((t) => codesOf(t).includes('crisis-update')) && found;
      },
      30_000,
      "the crisis rules' next-update Task",
    );
    expect(tasks.flatMap(codesOf)).toEqual(
      expect.arrayContaining([
        'missed-visit-follow-up',
        'housing-follow-up',
        'crisis-update',
        'medication-reconciliation',
      ]),
    );

    const flags = await hub.fhir.search<Flag>('Flag', { subject });
    expect(flags.flatMap(codesOf)).toEqual(
      expect.arrayContaining([
        'missed-visits',
        'housing-instability',
        'safeguarding-concern',
        'self-harm-risk',
        'behavioral-escalation',
      ]),
    );

    const communications = await hub.fhir.search<Communication>('Communication', { subject });
    expect(communications.flatMap((c) => c.category?.flatMap((k) => k.coding?.map((x) => x.code)))).toContain(
      'crisis-update',
    );

    const observations = await hub.fhir.search<Observation>('Observation', { subject });
    expect(observations.flatMap(codesOf)).toContain('71802-3'); // housing status

    // Valid against the hub's profiles, as the server itself judges them.
    for (const resource of [...carePlans, ...tasks] as Resource[]) {
      const outcome = await hub.fhir.validate(resource);
      expect({ resource: `${resource.resourceType}/${resource.id}`, errors: hasErrors(outcome) }).toEqual({
        resource: `${resource.resourceType}/${resource.id}`,
        errors: false,
      });
    }
  }, 120000);

  it('creates no duplicates when the same HL7 message, HMIS export and FHIR message are sent again', async () => {
    const count = async (type: Resource['resourceType'], system: string, value: string): Promise<number> =>
      (await byIdentifier(hub.fhir, type, system, value)).length;
    const tag = person.tag;
    const counts = async (): Promise<Record<string, number>> => ({
      patient: await count('Patient', MEDICAID_SYSTEM, person.medicaid),
      encounter: await count('Encounter', sid('northside-bh', 'visit'), visit),
      housingStatus: await count(
        'Observation',
        sid('harbor-housing', 'hmis-current-living-situation'),
        `C-${tag}`,
      ),
      housingFlag: await count(
        'Flag',
        sid('harbor-housing', 'hmis-housing-loss-flag'),
        `hmis-current-living-situation-C-${tag}`,
      ),
      housingTask: await count(
        'Task',
        sid('harbor-housing', 'hmis-housing-follow-up-task'),
        `hmis-current-living-situation-C-${tag}`,
      ),
      messageTask: await count('Task', 'https://northside-bh.example.org/task', `T-${tag}`),
      careTeam: (await hub.fhir.search('CareTeam', { subject: `Patient/${patientId}` })).length,
    });
    const expected = {
      patient: 1,
      encounter: 1,
      housingStatus: 1,
      housingFlag: 1,
      housingTask: 1,
      messageTask: 1,
      careTeam: 1,
    };
    expect(await counts()).toEqual(expected);
    const [before] = await byIdentifier<Encounter>(
      hub.fhir,
      'Encounter',
      sid('northside-bh', 'visit'),
      visit,
    );

    expect(
      outcomeOf(await ingest(hub, 'northside-bh', 'hl7v2-adt', a03, 'application/hl7-v2')),
    ).toMatchObject({
      status: 200,
    });
    expect(outcomeOf(await ingest(hub, 'harbor-housing', 'hmis-csv', hmis, 'application/zip'))).toMatchObject(
      {
        status: 200,
      },
    );
    const again = await post(hub, '/fhir/$process-message', message, 'application/fhir+json');
    expect(responseOf(again)?.code).toBe('ok');

    expect(await counts()).toEqual(expected);
    const [after] = await byIdentifier<Encounter>(hub.fhir, 'Encounter', sid('northside-bh', 'visit'), visit);
    expect(after?.meta?.versionId).toBe(before?.meta?.versionId);
  }, 120000);
});
