import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Patient } from 'fhir/r4.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  byIdentifier,
  dropPrefix,
  get,
  ingest,
  outcomeOf,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { unique } from '../../support/test-env.js';

const MRN = 'https://northside.example.org/mrn';
const MEDICAID = 'https://carecoord.example.org/sid/medicaid';

function patientTransaction(
  identifiers: Array<{ system: string; value: string }>,
  birthDate: string,
): object {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    identifier: { value: unique('tx') },
    entry: [
      {
        resource: {
          resourceType: 'Patient',
          identifier: identifiers,
          birthDate,
          name: [{ family: 'Conflict' }],
        },
        request: {
          method: 'PUT',
          url: `Patient?identifier=${identifiers[0]!.system}|${identifiers[0]!.value}`,
        },
      },
    ],
  };
}

/** Issue 3: a conflict is reported and held for review, never guessed. */
describe('participant identity conflicts', () => {
  const prefix = testPrefix();
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(prefix);
  });
  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  it('holds a record whose identifier names a Patient with a different birth date', async () => {
    const mrn = { system: MRN, value: unique('mrn') };
    expect(
      outcomeOf(
        await ingest(
          hub,
          'northside-bh',
          'fhir-transaction',
          patientTransaction([mrn], '1970-01-02'),
          'application/fhir+json',
        ),
      ).status,
    ).toBe(200);
    const second = await ingest(
      hub,
      'northside-bh',
      'fhir-transaction',
      patientTransaction([mrn], '1971-05-06'),
      'application/fhir+json',
    );
    expect(outcomeOf(second).status).toBe(422);
    // The sender learns that its record conflicts, not what another agency's record holds.
    expect(outcomeOf(second).diagnostics.join('\n')).toMatch(/Patient\.birthDate.*1971-05-06/);
    expect(outcomeOf(second).diagnostics.join('\n')).not.toMatch(/1970-01-02|Patient\/[A-Za-z0-9]/);
    const patients = await byIdentifier<Patient>(hub.fhir, 'Patient', MRN, mrn.value);
    expect(patients.map((p) => p.birthDate)).toEqual(['1970-01-02']);
    const held = await get(hub, '/admin/rejected?partner=northside-bh');
    expect(
      (held.body as Array<{ stage: string; issues: Array<{ field: string }> }>).some(
        (r) => r.stage === 'write' && r.issues.some((i) => i.field.includes('Patient.birthDate')),
      ),
    ).toBe(true);
  });

  it('holds a record whose identifiers name two different Patients', async () => {
    const a = { system: MRN, value: unique('mrn') };
    const b = { system: MEDICAID, value: unique('mcd') };
    await ingest(
      hub,
      'northside-bh',
      'fhir-transaction',
      patientTransaction([a], '1980-03-04'),
      'application/fhir+json',
    );
    await ingest(
      hub,
      'northside-bh',
      'fhir-transaction',
      patientTransaction([b], '1980-03-04'),
      'application/fhir+json',
    );
    const both = await ingest(
      hub,
      'northside-bh',
      'fhir-transaction',
      patientTransaction([a, b], '1980-03-04'),
      'application/fhir+json',
    );
    expect(outcomeOf(both).status).toBe(422);
    expect(outcomeOf(both).diagnostics.join('\n')).toMatch(/match 2 participants/);
    expect(outcomeOf(both).diagnostics.join('\n')).not.toMatch(/Patient\/[A-Za-z0-9]/);
  });
});
