import { describe, expect, it } from '@jest/globals';
import { parseFhirTransaction } from '../../../src/adapters/fhir-transaction/parse-transaction.js';

const SYS = 'https://ehr.example.org/mrn';
const bundle = (entry: unknown[], extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      resourceType: 'Bundle',
      type: 'transaction',
      identifier: { value: 'tx-1' },
      entry,
      ...extra,
    }),
  );
const patientPut = {
  fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
  resource: { resourceType: 'Patient', name: [{ family: 'Doe' }] },
  request: { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(SYS)}|M-1` },
};

describe('parseFhirTransaction', () => {
  it('takes a transaction as one record, with identifiers from conditional URLs', () => {
    const result = parseFhirTransaction(
      bundle([
        patientPut,
        {
          resource: {
            resourceType: 'Encounter',
            status: 'finished',
            subject: { reference: patientPut.fullUrl },
          },
          request: {
            method: 'POST',
            url: 'Encounter',
            ifNoneExist: 'identifier=https://ehr.example.org/visit|V-9',
          },
        },
      ]),
    );
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toHaveLength(1);
    const record = result.accepted[0]!;
    expect(record.sourceId).toBe('tx-1');
    expect(record.record.entries.map((e) => e.resource.identifier)).toEqual([
      [{ system: SYS, value: 'M-1' }],
      [{ system: 'https://ehr.example.org/visit', value: 'V-9' }],
    ]);
  });

  it('refuses deletes and reads, resources without identifiers, and a transaction without the participant, naming each entry', () => {
    const result = parseFhirTransaction(
      bundle([
        { request: { method: 'DELETE', url: 'Task/1' } },
        { request: { method: 'GET', url: 'Patient?name=x' } },
        { resource: { resourceType: 'Flag', status: 'active' }, request: { method: 'POST', url: 'Flag' } },
        {
          resource: { resourceType: 'Flag', identifier: [{ system: 's', value: 'v' }] },
          request: { method: 'POST', url: 'Task' },
        },
      ]),
    );
    expect(result.accepted).toEqual([]);
    expect(result.rejected[0]!.issues.map((i) => i.field)).toEqual([
      'Bundle.entry[0].request.method',
      'Bundle.entry[1].request.method',
      'Bundle.entry[2].resource.identifier',
      'Bundle.entry[3].request.url',
    ]);
    const noPatient = parseFhirTransaction(
      bundle([
        {
          resource: { resourceType: 'Flag', identifier: [{ system: 's', value: 'v' }] },
          request: { method: 'POST', url: 'Flag' },
        },
      ]),
    );
    expect(noPatient.rejected[0]!.issues[0]!.message).toMatch(/names no participant/);
  });

  it('refuses what is not a request Bundle', () => {
    expect(parseFhirTransaction(Buffer.from('{')).rejected[0]!.issues[0]!.field).toBe('Bundle');
    expect(parseFhirTransaction(bundle([], { type: 'collection' })).rejected[0]!.issues[0]!.field).toBe(
      'Bundle.type',
    );
  });
});
