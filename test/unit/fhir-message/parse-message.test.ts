import { describe, expect, it } from '@jest/globals';
import { parseFhirMessage } from '../../../src/adapters/fhir-message/parse-message.js';

const message = (...resources: Array<Record<string, unknown>>): Buffer =>
  Buffer.from(
    JSON.stringify({
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        {
          resource: {
            resourceType: 'MessageHeader',
            id: 'm-1',
            eventCoding: { code: 'communication' },
            sender: { reference: 'Organization/northside-bh' },
          },
        },
        ...resources.map((resource, i) => ({
          fullUrl: `urn:uuid:0000000${i}-0000-4000-8000-000000000000`,
          resource,
        })),
      ],
    }),
  );
const patient = {
  resourceType: 'Patient',
  identifier: [{ system: 'https://ehr.example.org/mrn', value: 'M-1' }],
};
const immunization = {
  resourceType: 'Immunization',
  identifier: [{ system: 'https://ehr.example.org/imm', value: 'I-1' }],
};

describe('parseFhirMessage', () => {
  it('skips, and reports, a resource the hub does not coordinate instead of refusing the message', () => {
    const result = parseFhirMessage(message(patient, immunization));
    expect(result.rejected).toEqual([]);
    expect(result.accepted[0]!.record.entries.map((e) => e.resource.resourceType)).toEqual(['Patient']);
    expect(result.skipped?.map((s) => s.location)).toEqual(['message m-1 entry 2 (Immunization)']);
    expect(result.accepted[0]!.record.outside?.['urn:uuid:00000001-0000-4000-8000-000000000000']).toEqual({
      resourceType: 'Immunization',
      identifier: { system: 'https://ehr.example.org/imm', value: 'I-1' },
    });
  });

  it('keeps what only the hub writes, for the write boundary to refuse the message it was sent with', () => {
    const consent = {
      resourceType: 'Consent',
      identifier: [{ system: 'https://ehr.example.org/c', value: 'C-1' }],
    };
    const result = parseFhirMessage(message(patient, consent));
    expect(result.accepted[0]!.record.entries.map((e) => e.resource.resourceType)).toEqual([
      'Patient',
      'Consent',
    ]);
  });
});
