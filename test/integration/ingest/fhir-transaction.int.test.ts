import { describe, expect, it } from '@jest/globals';
import type { Encounter, Immunization, Patient, Provenance } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { byIdentifier, ingest, outcomeOf, useTestHub } from '../../fixtures/ingest/hub-helpers.js';
import { unique } from '../../support/test-env.js';
import { EHR_MRN, EHR_PATIENT_URL, EHR_VISIT, ehrVisitEntries } from '../../fixtures/ingest/samples.js';

const MRN = EHR_MRN;
const VISIT = EHR_VISIT;

/** A transaction Bundle from the clinic's EHR. */
function transaction(mrn: string, visit: string): object {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    identifier: { system: 'https://northside.example.org/tx', value: `tx-${visit}` },
    entry: ehrVisitEntries(mrn, visit),
  };
}

describe('FHIR transaction bundles from an agency EHR', () => {
  const hub = useTestHub();

  it('applies a transaction once, however often it is sent, linked to one participant', async () => {
    const mrn = unique('mrn');
    const visit = unique('v');
    for (let i = 0; i < 2; i++) {
      const answer = await ingest(
        hub(),
        'northside-bh',
        'fhir-transaction',
        transaction(mrn, visit),
        'application/fhir+json',
      );
      expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    }
    const patients = await byIdentifier<Patient>(hub().fhir, 'Patient', MRN, mrn);
    expect(patients).toHaveLength(1);
    const encounters = await byIdentifier<Encounter>(hub().fhir, 'Encounter', VISIT, visit);
    expect(encounters).toHaveLength(1);
    expect(encounters[0]!.subject?.reference).toBe(`Patient/${patients[0]!.id}`);
  });

  it('refuses a transaction that deletes, naming the entry', async () => {
    const tx = transaction(unique('mrn'), unique('v')) as { entry: unknown[] };
    tx.entry.push({ request: { method: 'DELETE', url: 'CarePlan/123' } });
    const answer = await ingest(hub(), 'northside-bh', 'fhir-transaction', tx, 'application/fhir+json');
    expect(outcomeOf(answer).status).toBe(422);
    expect(outcomeOf(answer).diagnostics.join('\n')).toMatch(
      /Bundle\.entry\[2\]\.request\.method: DELETE is not accepted/,
    );
  });
});

describe("resources the hub does not coordinate, as the sender's file says", () => {
  const hub = useTestHub({ fixturePartners: true });

  /** A transaction carrying an Immunization, which the hub does not coordinate. */
  function withImmunization(mrn: string, uuid: string): object {
    const tx = transaction(mrn, unique('v')) as { entry: unknown[] };
    tx.entry.push({
      fullUrl: `urn:uuid:${uuid}`,
      resource: {
        resourceType: 'Immunization',
        status: 'completed',
        vaccineCode: { text: 'influenza' },
        patient: { reference: EHR_PATIENT_URL },
        occurrenceDateTime: '2026-10-01',
      },
      request: { method: 'POST', url: 'Immunization' },
    });
    return tx;
  }

  it('stores it as sent, for the participant, when the file says store', async () => {
    const mrn = unique('mrn');
    const uuid = randomUUID();
    const answer = await ingest(hub(), 'fixture-ehr', 'fhir-transaction', withImmunization(mrn, uuid));
    expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    const [patient] = await byIdentifier<Patient>(hub().fhir, 'Patient', MRN, mrn);
    const [stored] = await byIdentifier<Immunization>(
      hub().fhir,
      'Immunization',
      'https://carecoord.example.org/sid/fixture-ehr/Immunization',
      uuid,
    );
    expect(stored?.patient.reference).toBe(`Patient/${patient!.id}`);
    // The Provenance names the mapping version the record went through.
    const [provenance] = await hub().fhir.search<Provenance>('Provenance', {
      target: `Immunization/${stored!.id}`,
    });
    expect(provenance?.policy).toEqual(['https://carecoord.example.org/mapping/fixture-ehr/3']);
  });

  it('skips it, with an information issue, when the file does not', async () => {
    const uuid = randomUUID();
    const answer = await ingest(
      hub(),
      'northside-bh',
      'fhir-transaction',
      withImmunization(unique('mrn'), uuid),
    );
    expect(outcomeOf(answer).status).toBe(200);
    expect(outcomeOf(answer).diagnostics.join('\n')).toMatch(
      /\(Immunization\): skipped \(Immunization is not a resource/,
    );
    expect(
      await byIdentifier(
        hub().fhir,
        'Immunization',
        'https://carecoord.example.org/sid/northside-bh/Immunization',
        uuid,
      ),
    ).toEqual([]);
  });
});
