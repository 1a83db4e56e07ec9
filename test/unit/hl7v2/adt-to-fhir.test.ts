import { describe, expect, it } from '@jest/globals';
import type { Encounter, Flag } from 'fhir/r4.js';
import { parseAdtBatch } from '../../../src/adapters/hl7v2/parse-adt.js';
import type { AdtMessage } from '../../../src/adapters/hl7v2/types.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { adtToFhir } from '../../../src/mappers/hl7v2/adt-to-fhir.js';
import type { MappingContext } from '../../../src/mappers/types.js';
import { expectGolden, goldenInput } from '../../support/golden.js';

const partner: PartnerConfig = {
  id: 'test-bh',
  name: 'Test Behavioral Health',
  kind: 'behavioral-health',
  inbound: { formats: ['hl7v2-adt'] },
  identifiers: { assigningAuthorities: { MCD: 'medicaid', MR: 'mrn' } },
};
const ctx: MappingContext = { partner, identifierBase: 'https://carecoord.example.org' };

function parse(text: string): AdtMessage {
  const result = parseAdtBatch(text);
  expect(result.rejected).toEqual([]);
  return result.accepted[0]!.record;
}

const MSH = 'MSH|^~\\&|BHEHR|RIVERBEND|HUB|CARECOORD|20250310143000||ADT^A01|CTRL-1|P|2.5.1';
const PID = 'PID|1||MRN-1^^^RB^MR||Testperson^Alex||19880412|F';
const pv1 = (fields: Record<number, string>): string =>
  ['PV1', ...Array.from({ length: 45 }, (_, i) => fields[i + 1] ?? '')].join('|').replace(/\|+$/, '');
const adt = (trigger: string, ...segments: string[]): AdtMessage =>
  parse([MSH.replace('ADT^A01', `ADT^${trigger}`), ...segments].join('\r'));

describe('adtToFhir golden files', () => {
  it.each(['a01-admit', 'a03-discharge', 'a04-ed-visit', 'a08-update', 'a11-cancel-admit'])('%s', (name) => {
    const record = parse(goldenInput('hl7v2', `${name}.input.hl7`));
    expectGolden('hl7v2', name, adtToFhir(record, ctx));
  });
});

describe('adtToFhir', () => {
  it('is deterministic', () => {
    const record = parse(goldenInput('hl7v2', 'a04-ed-visit.input.hl7'));
    expect(adtToFhir(record, ctx)).toEqual(adtToFhir(structuredClone(record), ctx));
  });

  it('maps PID-3 by assigning authority, then type code; SS is an SSN; others stay partner-local', () => {
    const record = adt(
      'A08',
      'PID|1||M1^^^MCD^MR~R1^^^RB^MR~S1^^^SSA^SS~L1~L2^^^Other Auth~123-45-6789^^^SSA^SS',
      pv1({ 2: 'I', 19: 'V1' }),
    );
    expect(adtToFhir(record, ctx).participant.identifiers).toEqual([
      { system: 'https://carecoord.example.org/sid/medicaid', value: 'M1' },
      { system: 'https://carecoord.example.org/sid/test-bh/mrn', value: 'R1' },
      { system: 'http://hl7.org/fhir/sid/us-ssn', value: 'S1' },
      { system: 'https://carecoord.example.org/sid/test-bh/patient-id', value: 'L1' },
      { system: 'https://carecoord.example.org/sid/test-bh/patient-id/Other%20Auth', value: 'L2' },
      { system: 'http://hl7.org/fhir/sid/us-ssn', value: '123456789' },
    ]);
  });

  it('sets Encounter status and events by trigger', () => {
    const visit = pv1({ 2: 'I', 19: 'V1', 44: '20250310141500', 45: '20250312090000' });
    const outcome = (trigger: string) => {
      const mapped = adtToFhir(adt(trigger, 'EVN||20250312100000', PID, visit), ctx);
      const encounter = mapped.writes[0]!.resource as Encounter;
      return [encounter.status, encounter.period, mapped.events.map((e) => [e.type, e.at])];
    };
    const start = '2025-03-10T14:15:00+00:00';
    expect(outcome('A01')).toEqual(['in-progress', { start }, [['admission', start]]]);
    expect(outcome('A04')).toEqual(['in-progress', { start }, [['admission', start]]]);
    expect(outcome('A03')).toEqual([
      'finished',
      { start, end: '2025-03-12T09:00:00+00:00' },
      [['discharge', '2025-03-12T09:00:00+00:00']],
    ]);
    expect(outcome('A08')).toEqual(['finished', { start, end: '2025-03-12T09:00:00+00:00' }, []]);
    expect(outcome('A11')).toEqual([
      'cancelled',
      { start },
      [['admission-cancelled', '2025-03-12T10:00:00+00:00']],
    ]);
    expect(outcome('A13')).toEqual([
      'in-progress',
      { start },
      [['discharge-cancelled', '2025-03-12T10:00:00+00:00']],
    ]);
    expect(outcome('A02')).toEqual(['in-progress', { start }, []]);
    expect(outcome('A05')).toEqual(['planned', { start }, []]);
    expect(outcome('A06')).toEqual(['in-progress', { start }, [['admission', start]]]);
    expect(outcome('A07')).toEqual(['in-progress', { start }, []]);
  });

  it('writes no Encounter for the person-level A28 and A31, even with a PV1', () => {
    for (const trigger of ['A28', 'A31']) {
      const mapped = adtToFhir(adt(trigger, 'EVN||20250312100000', PID, pv1({ 2: 'O', 19: 'V9' })), ctx);
      expect(mapped.writes.filter((w) => w.resource.resourceType === 'Encounter')).toEqual([]);
      expect(mapped.events).toEqual([]);
    }
  });

  it('uses the event time for a discharge without PV1-45, and the partner zone for local times', () => {
    const zoned: MappingContext = {
      ...ctx,
      partner: { ...partner, fieldOverrides: { 'hl7.timezone': 'America/Chicago' } },
    };
    const mapped = adtToFhir(adt('A03', 'EVN||20250712100000', PID, pv1({ 2: 'O', 19: 'V1' })), zoned);
    expect(mapped.events).toEqual([
      { type: 'discharge', at: '2025-07-12T10:00:00-05:00', encounter: mapped.writes[0]!.fullUrl },
    ]);
    expect((mapped.writes[0]!.resource as Encounter).class).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: 'AMB',
      display: 'ambulatory',
    });
  });

  it('derives the Encounter identifier from the patient and admit time when PV1-19 is empty', () => {
    const mapped = adtToFhir(adt('A01', PID, pv1({ 2: 'I', 44: '20250310141500' })), ctx);
    expect(mapped.writes[0]!.identifier).toEqual({
      system: 'https://carecoord.example.org/sid/test-bh/visit-derived',
      value: 'RB/MRN-1@2025-03-10T14:15:00',
    });
  });

  it('writes no Encounter for an A08 that names no visit', () => {
    const mapped = adtToFhir(adt('A08', PID, pv1({ 2: 'I' })), ctx);
    expect(mapped.writes).toEqual([]);
    expect(mapped.events).toEqual([]);
    expect(mapped.participant.demographics?.name).toEqual([{ family: 'Testperson', given: ['Alex'] }]);
  });

  it('translates patient class, discharge disposition and local sex codes through the partner tables', () => {
    const translating: MappingContext = {
      ...ctx,
      partner: {
        ...partner,
        kind: 'hcbs-provider',
        codeTranslations: {
          'hl7.patientClass': { R: 'HH' },
          'hl7.dischargeDisposition': { '01': 'home' },
          'hl7.administrativeSex': { '2': 'female', '9': 'not-a-gender' },
        },
      },
    };
    const mapped = adtToFhir(
      adt('A03', PID.replace('|F', '|2'), pv1({ 2: 'R', 19: 'V1', 36: '01' })),
      translating,
    );
    expect(mapped.participant.demographics?.gender).toBe('female');
    const unknownSex = adtToFhir(adt('A03', PID.replace('|F', '|9'), pv1({ 2: 'R', 19: 'V1' })), translating);
    expect(unknownSex.participant.demographics?.gender).toBeUndefined();
    const encounter = mapped.writes[0]!.resource as Encounter;
    expect(encounter.class).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: 'HH',
      display: 'home health',
    });
    expect(encounter.hospitalization?.dischargeDisposition?.coding).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/discharge-disposition', code: 'home' },
      { system: 'http://terminology.hl7.org/CodeSystem/v2-0112', code: '01' },
    ]);
    expect(mapped.careTeamMembers).toEqual([
      {
        role: 'care-manager',
        member: { reference: 'Organization/test-bh', display: 'Test Behavioral Health' },
      },
    ]);
  });

  it('keeps an unknown patient class as a v2 code rather than guessing', () => {
    const mapped = adtToFhir(adt('A04', PID, pv1({ 2: 'R', 19: 'V1' })), ctx);
    expect((mapped.writes[0]!.resource as Encounter).class).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v2-0004',
      code: 'R',
    });
    expect(mapped.writes).toHaveLength(1); // not an emergency: no Flag
  });

  it('flags an emergency visit as recent ED contact', () => {
    const mapped = adtToFhir(adt('A03', PID, pv1({ 2: 'E', 19: 'ED-1', 44: '20250310020000' })), ctx);
    const [encounter, flag] = mapped.writes;
    expect(flag!.identifier).toEqual({
      system: 'https://carecoord.example.org/sid/test-bh/ed-contact',
      value: 'ED-1',
    });
    expect(flag!.resource as Flag).toMatchObject({
      status: 'active',
      code: { coding: [{ code: 'recent-ed-contact' }] },
      subject: { reference: 'urn:hub:participant' },
      author: { reference: 'Organization/test-bh' },
      period: { start: '2025-03-10T02:00:00+00:00' },
      encounter: { reference: encounter!.fullUrl },
    });
  });
});
