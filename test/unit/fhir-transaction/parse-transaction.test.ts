import { describe, expect, it } from '@jest/globals';
import { parseFhirTransaction } from '../../../src/adapters/fhir-transaction/parse-transaction.js';
import type { PartnerConfig } from '../../../src/config/partners.js';

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

  it('refuses what is not a Bundle of resources', () => {
    expect(parseFhirTransaction(Buffer.from('{')).rejected[0]!.issues[0]!.field).toBe('Bundle');
    expect(parseFhirTransaction(bundle([], { type: 'searchset' })).rejected[0]!.issues[0]!.field).toBe(
      'Bundle.type',
    );
  });

  it("gives entries without an identifier the sender's logical id: PUT Type/id, urn:uuid fullUrl", () => {
    const result = parseFhirTransaction(
      bundle([
        { resource: { resourceType: 'Patient', id: 'p1' }, request: { method: 'PUT', url: 'Patient/p1' } },
        {
          fullUrl: 'urn:uuid:ABCDEF01-2345-4678-9ABC-DEF012345678',
          resource: { resourceType: 'Encounter', status: 'finished', subject: { reference: 'Patient/p1' } },
          request: { method: 'POST', url: 'Encounter' },
        },
      ]),
    );
    expect(result.rejected).toEqual([]);
    expect(result.accepted[0]!.record.entries.map((e) => e.identity)).toEqual([
      'p1',
      'abcdef01-2345-4678-9abc-def012345678',
    ]);
    const onServer = parseFhirTransaction(
      bundle([
        {
          fullUrl: 'http://ehr.example.org/fhir/Patient/a2',
          resource: { resourceType: 'Patient' },
          request: { method: 'POST', url: 'Patient' },
        },
      ]),
    );
    expect(onServer.accepted[0]!.record.entries[0]!.identity).toBe('a2');
  });

  it('refuses a POST without identifier, conditional URL or fullUrl: it has no identity across resends', () => {
    const result = parseFhirTransaction(
      bundle([
        patientPut,
        { resource: { resourceType: 'Flag', status: 'active' }, request: { method: 'POST', url: 'Flag' } },
      ]),
    );
    expect(result.rejected[0]!.issues).toEqual([
      expect.objectContaining({ field: 'Bundle.entry[1].resource.identifier' }),
    ]);
  });

  it('applies a batch per participant, refusing a bad entry alone', () => {
    const result = parseFhirTransaction(
      bundle(
        [
          patientPut,
          {
            resource: { resourceType: 'Goal', id: 'g1', subject: { reference: patientPut.fullUrl } },
            request: { method: 'PUT', url: 'Goal/g1' },
          },
          {
            resource: { resourceType: 'Goal', id: 'g2', subject: { reference: 'Patient/other' } },
            request: { method: 'PUT', url: 'Goal/g2' },
          },
          { request: { method: 'DELETE', url: 'Goal/g3' } },
        ],
        { type: 'batch' },
      ),
    );
    expect(result.accepted.map((r) => r.record.entries.map((e) => e.resource.resourceType))).toEqual([
      ['Patient', 'Goal'],
      ['Goal'],
    ]);
    expect(result.accepted[1]!.record.participant).toBe('Patient/other');
    expect(result.rejected.map((r) => r.issues[0]!.field)).toEqual(['Bundle.entry[3].request.method']);
  });

  it('skips what the hub does not coordinate, warning for what only the hub writes', () => {
    const result = parseFhirTransaction(
      bundle([
        patientPut,
        {
          fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222',
          resource: { resourceType: 'Claim', identifier: [{ system: 's', value: 'c1' }] },
          request: { method: 'POST', url: 'Claim' },
        },
        {
          fullUrl: 'urn:uuid:33333333-3333-4333-8333-333333333333',
          resource: { resourceType: 'Consent', status: 'active' },
          request: { method: 'POST', url: 'Consent' },
        },
      ]),
    );
    expect(result.accepted[0]!.record.entries.map((e) => e.resource.resourceType)).toEqual(['Patient']);
    expect(result.skipped?.map((s) => [s.location.split(' ').slice(-1)[0], s.warning ?? false])).toEqual([
      ['(Claim)', false],
      ['(Consent)', true],
    ]);
    expect(result.accepted[0]!.record.outside?.['urn:uuid:22222222-2222-4222-8222-222222222222']).toEqual({
      resourceType: 'Claim',
      identifier: { system: 's', value: 'c1' },
    });
  });

  it('reads a collection about one participant whole, like a transaction, each entry as the PUT of its id', () => {
    const collection = (entry: unknown[]) =>
      Buffer.from(JSON.stringify({ resourceType: 'Bundle', id: 'plan-1', type: 'collection', entry }));
    const patient = (id: string) => ({
      fullUrl: `http://example.org/eLTSS/${id}`,
      resource: { resourceType: 'Patient', id, identifier: [{ system: SYS, value: id }] },
    });
    const plan = {
      fullUrl: 'http://example.org/eLTSS/careplan1',
      resource: { resourceType: 'CarePlan', id: 'careplan1', subject: { reference: 'Patient/p1' } },
    };
    const one = parseFhirTransaction(collection([plan, patient('p1')]));
    expect(one.rejected).toEqual([]);
    expect(one.accepted.map((a) => a.location)).toEqual(['collection plan-1']);
    expect(one.accepted[0]!.record.entries.map((e) => [e.resource.resourceType, e.identity])).toEqual([
      ['CarePlan', 'careplan1'],
      ['Patient', undefined],
    ]);
    const two = parseFhirTransaction(collection([plan, patient('p1'), patient('p2')]));
    expect(two.accepted.map((a) => a.record.entries.length)).toEqual([2, 1]);
  });

  it('reads a Bundle sent as FHIR XML like its JSON form, and names an unknown element by path', () => {
    const xml = (extra: string) =>
      Buffer.from(`<?xml version="1.0"?><Bundle xmlns="http://hl7.org/fhir"><type value="batch"/><entry>
        <resource><Patient><identifier><system value="${SYS}"/><value value="M-9"/></identifier>${extra}</Patient></resource>
        <request><method value="PUT"/><url value="Patient?identifier=${SYS}|M-9"/></request></entry></Bundle>`);
    const read = parseFhirTransaction(xml(''));
    expect(read.accepted[0]!.record.entries[0]!.resource).toEqual({
      resourceType: 'Patient',
      identifier: [{ system: SYS, value: 'M-9' }],
    });
    const refused = parseFhirTransaction(xml('<shoeSize value="9"/>'));
    expect(refused.rejected[0]!.issues).toEqual([
      { field: 'Bundle.entry[0].resource.Patient.shoeSize', message: 'is not an element R4 defines here' },
    ]);
  });

  it("stores what the hub does not coordinate when the sender's file says so, never what only the hub writes", () => {
    const claim = {
      fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222',
      resource: { resourceType: 'Claim', identifier: [{ system: 's', value: 'c1' }] },
      request: { method: 'POST', url: 'Claim' },
    };
    const consent = {
      fullUrl: 'urn:uuid:33333333-3333-4333-8333-333333333333',
      resource: { resourceType: 'Consent', status: 'active' },
      request: { method: 'POST', url: 'Consent' },
    };
    const storing: PartnerConfig = {
      id: 'ehr',
      name: 'EHR',
      kind: 'other',
      inbound: { formats: ['fhir-transaction'], uncoordinated: 'store' },
    };
    const result = parseFhirTransaction(bundle([patientPut, claim, consent]), storing);
    expect(result.accepted[0]!.record.entries.map((e) => e.resource.resourceType)).toEqual([
      'Patient',
      'Claim',
    ]);
    expect(result.skipped?.map((s) => s.warning)).toEqual([true]);
  });
});
