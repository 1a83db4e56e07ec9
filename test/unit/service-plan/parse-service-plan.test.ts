import { describe, expect, it } from '@jest/globals';
import { parseServicePlan } from '../../../src/adapters/service-plan/parse-service-plan.js';
import { goldenInput } from '../../support/golden.js';

// Fixtures are edited freely to build invalid documents, so they are untyped JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A fresh copy of the valid synthetic plan used by the golden test. */
function validPlan(): Json {
  return JSON.parse(goldenInput('service-plan', 'plan-with-risks.input.json')) as Json;
}

function parse(doc: unknown) {
  return parseServicePlan(Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)));
}

describe('parseServicePlan', () => {
  it('accepts one valid plan, identified by its planId', () => {
    const result = parse(validPlan());
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toHaveLength(1);
    expect(result.accepted[0]).toMatchObject({ location: 'plan SP-2025-0117', sourceId: 'SP-2025-0117' });
    expect(result.accepted[0]!.record.services).toHaveLength(3);
  });

  it('accepts a minimal plan (only required elements)', () => {
    const plan = {
      planId: 'P1',
      planEffectiveDate: '2025-01-01',
      planReviewDate: '2025-07-01',
      person: { personIdentifier: 'X1', personName: { family: 'Doe', given: ['Pat'] } },
      supportPlanner: { name: 'C. Manager' },
      goals: [{ goalId: 'G', goal: 'Live at home' }],
      services: [
        {
          serviceId: 'S',
          serviceName: 'Homemaker',
          serviceStartDate: '2025-01-01',
          serviceUnitQuantity: 3,
          unitOfServiceType: 'hours',
          serviceUnitQuantityInterval: 'per week',
          serviceProviderName: 'Agency A',
          selfDirectedServiceIndicator: false,
        },
      ],
    };
    expect(parse(plan)).toMatchObject({ accepted: [{ sourceId: 'P1' }], rejected: [] });
  });

  it('names every missing or invalid element by its JSON pointer', () => {
    const plan = validPlan();
    delete plan.planReviewDate;
    plan.person.personDateOfBirth = '1958-02-30';
    plan.goals[0].goal = '   ';
    plan.services[1].serviceCode = 'T 2003';
    plan.services[2].selfDirectedServiceIndicator = 'no';
    plan.risks[0].severity = 'high';
    const result = parse(plan);
    expect(result.accepted).toEqual([]);
    expect(result.rejected).toHaveLength(1);
    const rejected = result.rejected[0]!;
    expect(rejected).toMatchObject({ location: 'plan SP-2025-0117', sourceId: 'SP-2025-0117' });
    expect(rejected.issues).toEqual(
      expect.arrayContaining([
        { field: '/planReviewDate', message: 'is required' },
        { field: '/person/personDateOfBirth', message: 'must be a date (YYYY-MM-DD)' },
        { field: '/goals/0/goal', message: 'must not be blank' },
        {
          field: '/services/1/serviceCode',
          message: 'must be a HCPCS code with up to four modifiers appended by dashes (e.g. T1019-U3)',
        },
        { field: '/services/2/selfDirectedServiceIndicator', message: 'must be boolean' },
        { field: '/risks/0/severity', message: 'is not a known field' },
      ]),
    );
    expect(rejected.issues).toHaveLength(6);
    expect(JSON.parse(rejected.raw!)).toEqual(plan);
  });

  it('checks dates, unique ids and goal links across fields', () => {
    const plan = validPlan();
    plan.planEndDate = '2025-01-31';
    plan.services[0].serviceEndDate = '2025-02-01';
    plan.services[1].goalIds = ['G9'];
    plan.goals[1].goalId = 'G1';
    const issues = parse(plan).rejected[0]!.issues;
    expect(issues).toEqual([
      { field: '/planEndDate', message: 'is before planEffectiveDate' },
      { field: '/goals/1/goalId', message: '"G1" is already used by /goals/0' },
      { field: '/services/0/serviceEndDate', message: 'is before serviceStartDate' },
      { field: '/services/1/goalIds/0', message: 'names goal "G9", which is not in /goals' },
    ]);
  });

  it('takes a batch: good plans go in, bad ones are rejected with pointers from the root', () => {
    const good = validPlan();
    const bad = validPlan();
    bad.planId = 'SP-BAD';
    bad.goals[0].goal = '';
    delete bad.services[0].serviceProviderName;
    const other = { ...validPlan(), planId: 'SP-2' };
    const result = parse({ plans: [good, bad, 'not a plan', other] });
    expect(result.accepted.map((a) => a.location)).toEqual(['plan 1 (SP-2025-0117)', 'plan 4 (SP-2)']);
    expect(result.rejected).toEqual([
      expect.objectContaining({
        location: 'plan 2 (SP-BAD)',
        sourceId: 'SP-BAD',
        issues: [
          { field: '/plans/1/goals/0/goal', message: 'must not be blank' },
          { field: '/plans/1/services/0/serviceProviderName', message: 'is required' },
        ],
      }),
      expect.objectContaining({
        location: 'plan 3',
        issues: [{ field: '/plans/2', message: 'must be object' }],
      }),
    ]);
  });

  it('rejects what is not a plan document, never throwing', () => {
    expect(parse('{"planId": ').rejected[0]).toMatchObject({
      location: 'document',
      issues: [{ field: '/', message: expect.stringMatching(/^not valid JSON/) }],
    });
    expect(parse('[1,2]').rejected[0]!.issues[0]!.message).toMatch(/must be a JSON object/);
    expect(parse({ plans: [] }).rejected[0]!.issues).toEqual([
      { field: '/plans', message: 'must be a non-empty array of plans' },
    ]);
    expect(parse({ plans: [validPlan()], sender: 'x' }).rejected[0]!.issues).toEqual([
      { field: '/sender', message: 'is not a known field (a batch holds only "plans")' },
    ]);
  });

  it('reads a UTF-8 byte order mark', () => {
    expect(parse(`\uFEFF${JSON.stringify(validPlan())}`).accepted).toHaveLength(1);
  });
});
