import { describe, expect, it } from '@jest/globals';
import type { Flag, Observation, Patient, Task } from 'fhir/r4.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHmisExport } from '../../../src/adapters/hmis/parse-hmis.js';
import type {
  HmisClientRecord,
  HmisEnrollment,
  HmisLivingSituation,
} from '../../../src/adapters/hmis/types.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { ConfigError } from '../../../src/errors/hub-error.js';
import { hmisToFhir } from '../../../src/mappers/hmis/hmis-to-fhir.js';
import type { MappingContext } from '../../../src/mappers/types.js';
import { expectGolden, GOLDEN_DIR } from '../../support/golden.js';

const partner: PartnerConfig = {
  id: 'metro-housing',
  name: 'Metro Housing Coalition',
  kind: 'housing',
  inbound: { formats: ['hmis-csv'] },
  fieldOverrides: { 'hmis.timezone': 'America/New_York' },
};
const ctx: MappingContext = { partner, identifierBase: 'https://carecoord.example.org' };

function goldenExport(name: string): Map<string, Buffer> {
  const dir = path.join(GOLDEN_DIR, 'hmis', name);
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))]));
}

describe('hmisToFhir golden files', () => {
  it.each(['housed', 'exit-homeless', 'cls-homeless'])('maps the %s export', (name) => {
    const parsed = parseHmisExport(goldenExport(name));
    expect(parsed.rejected).toEqual([]);
    expect(parsed.accepted).toHaveLength(1);
    expectGolden('hmis', name, hmisToFhir(parsed.accepted[0]!.record, ctx));
  });

  it('maps the same record the same way, also after a trip through JSON (the queue)', () => {
    const record = parseHmisExport(goldenExport('exit-homeless')).accepted[0]!.record;
    const viaQueue = JSON.parse(JSON.stringify(record)) as HmisClientRecord;
    expect(hmisToFhir(viaQueue, ctx)).toEqual(hmisToFhir(record, ctx));
  });
});

const HOMELESS: HmisLivingSituation = {
  code: 116,
  display: 'Place not meant for habitation',
  category: 'homeless',
};
const SHELTER: HmisLivingSituation = { code: 101, display: 'Emergency shelter', category: 'homeless' };
const JAIL: HmisLivingSituation = {
  code: 207,
  display: 'Jail, prison or juvenile detention facility',
  category: 'institutional',
};
const RENTAL: HmisLivingSituation = {
  code: 410,
  display: 'Rental by client, no ongoing housing subsidy',
  category: 'permanent',
};
const NOT_COLLECTED: HmisLivingSituation = { code: 99, display: 'Data not collected', category: 'unknown' };

function client(over: Partial<HmisClientRecord> = {}, enrollments: HmisEnrollment[] = []): HmisClientRecord {
  return {
    personalId: 'P1',
    export: { exportId: 'EX1', exportDate: '2024-12-01', exportedAt: '2024-12-01T08:30:00' },
    name: { first: 'Ana', last: 'Lopez', dataQuality: 1 },
    enrollments,
    ...over,
  };
}

function enrollment(over: Partial<HmisEnrollment> = {}): HmisEnrollment {
  return {
    enrollmentId: 'E1',
    entryDate: '2024-01-01',
    projectId: 'PR1',
    currentLivingSituations: [],
    services: [],
    ...over,
  };
}

function cls(id: string, date: string, situation: HmisLivingSituation) {
  return { currentLivingSitId: id, informationDate: date, situation };
}

function ofType<T>(mapped: ReturnType<typeof hmisToFhir>, type: string): T[] {
  return mapped.writes.filter((w) => w.resource.resourceType === type).map((w) => w.resource as T);
}

describe('hmisToFhir participant', () => {
  it.each([
    ['123456789', 1, ['123456789']],
    ['123-45-6789', 1, ['123456789']],
    ['123456789', 2, []],
    ['888888', 1, []],
    ['000100343', 1, []],
    ['666123456', 1, []],
    ['912345678', 1, []],
    ['123006789', 1, []],
    ['123450000', 1, []],
  ])('uses SSN %s with data quality %s only when complete, full and issuable', (ssn, dq, expected) => {
    const ids = hmisToFhir(client({ ssn, ssnDataQuality: dq }), ctx).participant.identifiers;
    expect(ids[0]).toEqual({
      system: 'https://carecoord.example.org/sid/metro-housing/hmis-personal-id',
      value: 'P1',
    });
    expect(ids.filter((i) => i.system === 'http://hl7.org/fhir/sid/us-ssn').map((i) => i.value)).toEqual(
      expected,
    );
  });

  it('takes names and birth dates as far as their data quality allows', () => {
    const demo = (over: Partial<HmisClientRecord>): Patient | undefined =>
      hmisToFhir(client(over), ctx).participant.demographics;
    expect(
      demo({
        name: { first: 'Ana', middle: 'M', last: 'Lopez', suffix: 'Jr.', dataQuality: 1 },
        dob: '1980-05-06',
        dobDataQuality: 1,
      }),
    ).toEqual({
      resourceType: 'Patient',
      name: [{ use: 'official', family: 'Lopez', given: ['Ana', 'M'], suffix: ['Jr.'] }],
      birthDate: '1980-05-06',
    });
    expect(demo({ name: { first: 'Shorty', dataQuality: 2 }, dob: '1980-05-06', dobDataQuality: 2 })).toEqual(
      {
        resourceType: 'Patient',
        name: [{ use: 'usual', given: ['Shorty'] }],
        birthDate: '1980',
      },
    );
    expect(
      demo({ name: { first: 'Client', last: 'Doe', dataQuality: 9 }, dob: '1980-05-06', dobDataQuality: 99 }),
    ).toBeUndefined();
  });
});

describe('hmisToFhir housing loss', () => {
  it('flags a current living situation in an institution', () => {
    const mapped = hmisToFhir(
      client({}, [enrollment({ currentLivingSituations: [cls('C1', '2024-07-01', JAIL)] })]),
      ctx,
    );
    expect(ofType<Flag>(mapped, 'Flag')).toHaveLength(1);
    expect(mapped.events).toEqual([
      {
        type: 'plan-change-trigger',
        at: '2024-07-01T00:00:00-04:00',
        trigger: 'housing-loss',
        focus: mapped.writes[1]!.fullUrl,
      },
    ]);
  });

  it('does not flag an exit to an institution', () => {
    const exit = { exitId: 'X1', exitDate: '2024-07-01', destination: JAIL };
    const mapped = hmisToFhir(client({}, [enrollment({ exit })]), ctx);
    expect(mapped.writes.map((w) => w.resource.resourceType)).toEqual(['Observation']);
    expect(mapped.events).toEqual([]);
  });

  it('does not flag a loss that a later known situation resolved, and passes over answers that say nothing', () => {
    const mapped = hmisToFhir(
      client({}, [
        enrollment({
          currentLivingSituations: [
            cls('C1', '2024-03-01', HOMELESS),
            cls('C2', '2024-04-01', RENTAL),
            cls('C3', '2024-05-01', NOT_COLLECTED),
          ],
        }),
      ]),
      ctx,
    );
    // Every row is on the server under its own id; the answer that says nothing ends no loss.
    expect(
      ofType<Observation>(mapped, 'Observation').map((o) => [
        o.identifier![0]!.system,
        o.identifier![0]!.value,
        o.valueCodeableConcept!.coding![0]!.code,
      ]),
    ).toEqual(
      [
        ['C1', '116'],
        ['C2', '410'],
        ['C3', '99'],
      ].map(([id, code]) => [
        'https://carecoord.example.org/sid/metro-housing/hmis-current-living-situation',
        id,
        code,
      ]),
    );
    expect(mapped.events).toEqual([]);
  });

  it('dates the loss from the first of an unbroken run of losses, across enrollments', () => {
    const mapped = hmisToFhir(
      client({}, [
        enrollment({
          exit: { exitId: 'X1', exitDate: '2024-03-05', destination: HOMELESS },
          currentLivingSituations: [cls('C1', '2024-02-01', RENTAL)],
        }),
        enrollment({
          enrollmentId: 'E2',
          entryDate: '2024-03-06',
          currentLivingSituations: [cls('C2', '2024-03-06', SHELTER)],
        }),
      ]),
      ctx,
    );
    const [flag] = ofType<Flag>(mapped, 'Flag');
    const [task] = ofType<Task>(mapped, 'Task');
    expect(flag!.period).toEqual({ start: '2024-03-05' });
    expect(flag!.identifier![0]!.value).toBe('hmis-exit-X1');
    expect(task!.restriction!.period!.end).toBe('2024-03-08T00:00:00-05:00');
    expect(ofType<Observation>(mapped, 'Observation').map((o) => o.effectiveDateTime)).toEqual([
      '2024-02-01',
      '2024-03-05',
      '2024-03-06',
    ]);
  });

  it('records an exit that leaves Destination empty, with a data-absent reason, and flags nothing', () => {
    const exit = { exitId: 'X9', exitDate: '2024-06-30' };
    const mapped = hmisToFhir(client({}, [enrollment({ exit })]), ctx);
    const [observation] = ofType<Observation>(mapped, 'Observation');
    expect(observation).toMatchObject({
      identifier: [{ system: 'https://carecoord.example.org/sid/metro-housing/hmis-exit', value: 'X9' }],
      effectiveDateTime: '2024-06-30',
      dataAbsentReason: { coding: [{ code: 'unknown' }] },
    });
    expect(observation!.valueCodeableConcept).toBeUndefined();
    expect(ofType<Flag>(mapped, 'Flag')).toEqual([]);
  });

  it('counts the 72 hours in real time across a daylight-saving change', () => {
    const exit = { exitId: 'X1', exitDate: '2024-11-02', destination: HOMELESS };
    const [task] = ofType<Task>(hmisToFhir(client({}, [enrollment({ exit })]), ctx), 'Task');
    expect(task!.restriction!.period!.end).toBe('2024-11-04T23:00:00-05:00');
  });

  it('uses UTC without a partner time zone and refuses a wrong one', () => {
    const exit = { exitId: 'X1', exitDate: '2024-07-01', destination: HOMELESS };
    const record = client({}, [enrollment({ exit })]);
    const plain: MappingContext = { ...ctx, partner: { ...partner, fieldOverrides: {} } };
    expect(ofType<Task>(hmisToFhir(record, plain), 'Task')[0]!.restriction!.period!.end).toBe(
      '2024-07-04T00:00:00Z',
    );
    const wrong: MappingContext = {
      ...ctx,
      partner: { ...partner, fieldOverrides: { 'hmis.timezone': 'Mars/Olympus' } },
    };
    expect(() => hmisToFhir(record, wrong)).toThrow(ConfigError);
  });
});

describe('hmisToFhir care team', () => {
  it('puts the partner on the care team from the earliest open enrollment only', () => {
    const mapped = hmisToFhir(
      client({}, [
        enrollment({
          enrollmentId: 'E1',
          entryDate: '2023-01-01',
          exit: { exitId: 'X1', exitDate: '2023-06-01' },
        }),
        enrollment({ enrollmentId: 'E2', entryDate: '2024-02-01' }),
        enrollment({ enrollmentId: 'E3', entryDate: '2024-01-15' }),
      ]),
      ctx,
    );
    expect(mapped.careTeamMembers).toEqual([
      {
        role: 'housing-navigator',
        member: { reference: 'Organization/metro-housing', display: 'Metro Housing Coalition' },
        period: { start: '2024-01-15' },
      },
    ]);
    const closed = hmisToFhir(
      client({}, [enrollment({ exit: { exitId: 'X1', exitDate: '2023-06-01' } })]),
      ctx,
    );
    expect(closed.careTeamMembers).toBeUndefined();
  });
});
