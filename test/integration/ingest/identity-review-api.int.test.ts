/**
 * Issue 19: the identity review from a script (`/admin/identities`), as the page does it: a record
 * held for a birth-date conflict is listed beside the participant it points at; "the same person"
 * may name only that participant; decided, it is applied to it and the decision is audited.
 */
import { describe, expect, it } from '@jest/globals';
import type { AuditEvent, Patient } from 'fhir/r4.js';
import request from 'supertest';
import { eventually, ingest, useTestHub } from '../../fixtures/ingest/hub-helpers.js';
import { adt, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';

interface Held {
  readonly id: string;
  readonly location: string;
  readonly record: { readonly birthDate?: string };
  readonly matches: ReadonlyArray<{ readonly id: string; readonly birthDate?: string }>;
}

describe('the identity review API', () => {
  const hub = useTestHub();

  it('lists a held record beside the participant it points at and applies a decision to it', async () => {
    const person = newPerson();
    expect((await ingest(hub(), 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const [patient] = await hub().fhir.search<Patient>('Patient', { identifier: person.medicaid });
    const admission = adt(
      { ...person, birthDate: '1971-07-04' },
      { trigger: 'A01', controlId: `IR${person.tag}`, visitNumber: `V${person.tag}` },
    );
    expect((await ingest(hub(), 'northside-bh', 'hl7v2-adt', admission, 'application/hl7-v2')).status).toBe(
      422,
    );

    const listed = (await request(hub().url).get('/admin/identities')).body as Held[];
    const held = listed.find((h) => h.location.includes(`IR${person.tag}`))!;
    expect(held.record.birthDate).toBe('1971-07-04');
    expect(held.matches.map((m) => [m.id, m.birthDate])).toEqual([[patient!.id, person.birthDate]]);

    const decide = (body: object) => request(hub().url).post(`/admin/identities/${held.id}`).send(body);
    expect((await decide({ decision: 'same', patientId: 'someone-else', reason: 'x' })).status).toBe(400);
    expect((await decide({ decision: 'same', patientId: patient!.id })).status).toBe(400);
    const decided = await decide({ decision: 'same', patientId: patient!.id, reason: 'Birth year mistyped' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ outcome: `the same person as Patient/${patient!.id}` });

    // Applied to that participant: it holds the clinic's MRN now; no longer held.
    await eventually(
      async () =>
        (await hub().fhir.search<Patient>('Patient', { identifier: person.mrn })).map((p) => p.id).join() ||
        undefined,
    ).then((ids) => expect(ids).toBe(patient!.id));
    expect(
      ((await request(hub().url).get('/admin/identities')).body as Held[]).map((h) => h.id),
    ).not.toContain(held.id);
    const audits = await hub().fhir.search<AuditEvent>('AuditEvent', {
      type: 'http://dicom.nema.org/resources/ontology/DCM|110110',
    });
    expect(
      audits.some(
        (a) =>
          a.entity?.[0]?.description === 'Birth year mistyped' &&
          a.entity[0].what?.display?.includes(held.id),
      ),
    ).toBe(true);
  });
});
