/**
 * Records applied in source order (README, "Order of inbound records"): a message about an earlier
 * moment, arriving late (a retried A01 after the A03; an A03 delivered after the A13 that
 * cancelled it), never overwrites the later state the server holds, and what it says happened is
 * not acted on.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BundleEntry, CarePlan, Encounter, Flag, Observation, Patient, Task } from 'fhir/r4.js';
import { enqueueAppliedRecord } from '../../../src/coordination/coordination.queue.js';
import { EXTENSION } from '../../../src/fhir/profiles.js';
import { lookUpHeld, orderedEntry } from '../../../src/ingest/source-order.js';
import { resourceWrite } from '../../../src/mappers/support.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  dropPrefix,
  ingest,
  outcomeOf,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import {
  adt,
  evvCsv,
  evvRow,
  fhirMessage,
  IDENTIFIER_BASE,
  MESSAGE_PATIENT,
  hmisZip,
  newPerson,
  servicePlan,
  type Person,
} from '../../fixtures/ingest/samples.js';

describe('source order of inbound records', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(prefix);
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  async function send(person: Person, trigger: 'A01' | 'A03' | 'A13', eventAt: string): Promise<void> {
    const message = adt(person, {
      trigger,
      controlId: `${trigger}-${eventAt}-${person.tag}`,
      visitNumber: `V-${person.tag}`,
      eventAt,
      dischargeAt: '20251201090000',
    });
    const answer = await ingest(hub, 'northside-bh', 'hl7v2-adt', message, 'application/hl7-v2');
    expect(outcomeOf(answer)).toMatchObject({ status: 200 });
  }

  async function visitOf(person: Person): Promise<Encounter> {
    const found = await hub.fhir.search<Encounter>('Encounter', {
      identifier: `${IDENTIFIER_BASE}/sid/northside-bh/visit|V-${person.tag}`,
    });
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  it('keeps the discharge when the admission of the same visit arrives after it', async () => {
    const person = newPerson();
    await send(person, 'A03', '20251201091000');
    const discharged = await visitOf(person);
    await send(person, 'A01', '20251130080000');

    const after = await visitOf(person);
    expect(after.status).toBe('finished');
    expect(after.meta?.versionId).toBe(discharged.meta?.versionId);
  });

  it('never lets the first write of a new resource overwrite a later state written meanwhile', async () => {
    // Two records about a new visit race: the A01 finds no Encounter and plans its first write;
    // the A03 is written before that write runs. The planned write must not land over it.
    const person = newPerson();
    const identifier = { system: `${IDENTIFIER_BASE}/sid/northside-bh/visit`, value: `V-${person.tag}` };
    const admission: Encounter = {
      resourceType: 'Encounter',
      identifier: [identifier],
      status: 'in-progress',
      class: { code: 'IMP' },
    };
    const write = { ...resourceWrite(admission, identifier), sourceTime: '2025-11-30T08:00:00Z' };
    const received = new Date().toISOString();
    const planned = await orderedEntry(lookUpHeld(hub.fhir, [write]), write, admission, received);
    expect(planned.kind).toBe('write');
    await send(person, 'A03', '20251201091000');
    const response = await hub.fhir.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [(planned as { entry: BundleEntry }).entry],
    });
    expect((await visitOf(person)).status).toBe('finished');
    // The writer learns of the race from the answer (an existing match, not a creation).
    expect(response.entry?.[0]?.response?.status).toMatch(/^200/);
  });

  it('applies a later message over an earlier one, and stamps the source time it holds', async () => {
    const person = newPerson();
    await send(person, 'A01', '20251130080000');
    await send(person, 'A03', '20251201091000');
    const visit = await visitOf(person);
    expect(visit.status).toBe('finished');
    expect(visit.extension?.find((e) => e.url === EXTENSION.sourceTime)?.valueDateTime).toBe(
      '2025-12-01T09:10:00-05:00',
    );
  });

  it('opens no post-discharge sprint for a discharge delivered after its cancellation', async () => {
    const person = newPerson();
    await send(person, 'A01', '20251130080000');
    await send(person, 'A13', '20251201100000');
    await send(person, 'A03', '20251201091000');

    const visit = await visitOf(person);
    expect(visit.status).toBe('in-progress');
    // The coordination rules run after the write; give them time to (wrongly) open the sprint.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const sprint = await hub.fhir.search<Task>('Task', {
      subject: visit.subject!.reference!,
      'group-identifier': `${IDENTIFIER_BASE}/sid/hub/sprint|`,
    });
    expect(sprint.filter((t) => t.status !== 'cancelled')).toEqual([]);
  });

  it('opens no sprint when the rules of a discharge run only after its cancellation was written', async () => {
    // A03 then A13, each applied in order, but the A03's coordination job runs late (a retry, a
    // busy worker): the rules must look at the visit as it now stands.
    const person = newPerson();
    await send(person, 'A01', '20251130080000');
    await send(person, 'A13', '20251201100000');
    const visit = await visitOf(person);
    const patient = visit.subject!.reference!;
    await enqueueAppliedRecord(hub.queues.coordination, `late-a03-${person.tag}`, {
      partnerId: 'northside-bh',
      patient,
      written: {},
      versions: {},
      events: [{ type: 'discharge', at: '2025-12-01T09:00:00-05:00', encounter: `Encounter/${visit.id}` }],
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const sprint = await hub.fhir.search<Task>('Task', {
      subject: patient,
      'group-identifier': `${IDENTIFIER_BASE}/sid/hub/sprint|`,
    });
    expect(sprint.filter((t) => t.status !== 'cancelled')).toEqual([]);
  });

  it('keeps the newer state of a resource a FHIR message dates by meta.lastUpdated', async () => {
    const person = newPerson();
    const encounter = (status: string, lastUpdated: string): Record<string, unknown> => ({
      resourceType: 'Encounter',
      meta: { lastUpdated },
      identifier: [{ system: 'https://northside-bh.example.org/encounter', value: `E-${person.tag}` }],
      status,
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: MESSAGE_PATIENT },
    });
    const sendMessage = async (status: string, lastUpdated: string): Promise<void> => {
      const answer = await ingest(
        hub,
        'northside-bh',
        'fhir-message',
        fhirMessage(
          person,
          'northside-bh',
          status === 'finished' ? 'encounter-discharge' : 'encounter-admit',
          [encounter(status, lastUpdated)],
        ),
      );
      expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    };
    await sendMessage('finished', '2025-12-01T09:10:00Z');
    await sendMessage('in-progress', '2025-11-30T08:00:00Z'); // an older state, delivered late

    const [visit] = await hub.fhir.search<Encounter>('Encounter', {
      identifier: `https://northside-bh.example.org/encounter|E-${person.tag}`,
    });
    expect(visit?.status).toBe('finished');
  });

  it('keeps the higher version of a service plan when a lower one arrives after it', async () => {
    const person = newPerson();
    const version = (n: number): Record<string, unknown> => ({
      ...servicePlan(person),
      planVersion: String(n),
      preferences: [`Preference of version ${n}`],
    });
    for (const n of [3, 2]) {
      const answer = await ingest(hub, 'sunrise-hcbs', 'service-plan', version(n));
      expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    }
    const [plan] = await hub.fhir.search<CarePlan>('CarePlan', {
      identifier: `${IDENTIFIER_BASE}/sid/sunrise-hcbs/service-plan|SP-${person.tag}`,
    });
    expect(plan?.description).toMatch(/version 3$/);
  });

  it('keeps a checked-out EVV visit finished when its earlier check-in is resent after it', async () => {
    const person = newPerson();
    const visit = `EVV-${person.tag}`;
    const checkedIn = `${visit},${person.medicaid},${person.member},T1019-U3,CG-17,2025-03-04T09:00,2025-03-04T11:00,2025-03-04T09:04,,SCHEDULED,,`;
    for (const row of [evvRow(person, visit, 'COMPLETED', '2025-03-04', true), checkedIn]) {
      const answer = await ingest(hub, 'sunrise-hcbs', 'evv-csv', evvCsv(row), 'text/csv');
      expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    }
    const [encounter] = await hub.fhir.search<Encounter>('Encounter', { identifier: visit });
    expect(encounter).toMatchObject({ status: 'finished', period: { end: expect.any(String) } });
  });

  it('changes nothing for an HMIS export older than one already applied', async () => {
    const person = newPerson();
    const send = async (situation: string, exportDate: string): Promise<void> => {
      const zip = hmisZip(person, situation, exportDate);
      const answer = await ingest(hub, 'harbor-housing', 'hmis-csv', zip, 'application/zip');
      expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    };
    await send('410', '2025-04-20 06:00:00'); // renting, as of April
    await send('116', '2025-03-20 06:00:00'); // the March export, homeless then, delivered late

    const [patient] = await hub.fhir.search<Patient>('Patient', {
      identifier: `http://hl7.org/fhir/sid/us-ssn|${person.ssn}`,
    });
    const flags = await hub.fhir.search<Flag>('Flag', { patient: `Patient/${patient!.id}` });
    expect(flags.map((f) => f.code?.coding?.[0]?.code)).not.toContain('housing-instability');
    const observations = await hub.fhir.search<Observation>('Observation', {
      patient: `Patient/${patient!.id}`,
    });
    expect(observations.map((o) => o.valueCodeableConcept?.coding?.[0]?.code)).toEqual(['410']);
  });
});
