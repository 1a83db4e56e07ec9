import { describe, expect, it } from '@jest/globals';
import type { CarePlan, CarePlanActivity } from 'fhir/r4.js';
import { mergeCarePlans } from '../../../src/coordination/plan-merge.js';

const activity = (
  description: string,
  extra: Partial<CarePlanActivity['detail']> = {},
): CarePlanActivity => ({
  detail: {
    status: 'scheduled',
    description,
    performer: [{ reference: 'Organization/sunrise-hcbs' }],
    ...extra,
  },
});

const personalCare = activity('Personal care', { scheduledString: 'daily' });
const housing = activity('Housing check-in', { performer: [{ reference: 'Organization/harbor-housing' }] });
const medication: CarePlanActivity = {
  detail: {
    status: 'not-started',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '182836005', display: 'Medication review' }] },
    performer: [{ reference: 'Organization/northside-bh' }],
  },
};

const base: CarePlan = {
  resourceType: 'CarePlan',
  id: 'p1',
  meta: { versionId: '1' },
  status: 'active',
  intent: 'plan',
  title: 'Shared plan',
  description: 'Stay at home safely',
  subject: { reference: 'Patient/1' },
  period: { start: '2026-11-01' },
  author: { reference: 'Organization/sunrise-hcbs' },
  activity: [personalCare, housing, medication],
  note: [{ text: 'Prefers mornings' }],
};

/** `base` with `changes` applied; `activity` given as a function of base's activities. */
function edit(
  changes: Partial<Omit<CarePlan, 'activity'>> & { activity?: (a: CarePlanActivity[]) => CarePlanActivity[] },
  removed: Array<keyof CarePlan> = [],
): CarePlan {
  const { activity: activities, ...rest } = changes;
  const plan: CarePlan = {
    ...base,
    ...rest,
    activity: activities ? activities([...base.activity!]) : base.activity,
  };
  for (const key of removed) {
    delete plan[key];
  }
  return plan;
}

const twiceDaily = activity('Personal care', { scheduledString: 'twice daily' });
const morningsOnly = activity('Personal care', { scheduledString: 'mornings' });
const transport = activity('Transport to appointments', {
  performer: [{ reference: 'Organization/northside-bh' }],
});

describe('mergeCarePlans', () => {
  it.each<{
    name: string;
    theirs: CarePlan;
    ours: CarePlan;
    expected: Partial<CarePlan>;
    absent?: string[];
  }>([
    {
      name: 'different elements: description on one side, status on the other',
      theirs: edit({ description: 'Stay at home safely, with family support' }),
      ours: edit({ status: 'on-hold' }),
      expected: { description: 'Stay at home safely, with family support', status: 'on-hold' },
    },
    {
      name: 'one side adds an activity, the other changes the description',
      theirs: edit({ activity: (a) => [...a, transport] }),
      ours: edit({ description: 'New goal' }),
      expected: { description: 'New goal', activity: [personalCare, housing, medication, transport] },
    },
    {
      name: 'different activities changed on each side',
      theirs: edit({ activity: ([, h, m]) => [twiceDaily, h!, m!] }),
      ours: edit({
        activity: ([p, h]) => [p!, h!, { detail: { ...medication.detail!, status: 'in-progress' } }],
      }),
      expected: {
        activity: [twiceDaily, housing, { detail: { ...medication.detail!, status: 'in-progress' } }],
      },
    },
    {
      name: 'both add different activities: theirs first, then ours',
      theirs: edit({ activity: (a) => [...a, transport] }),
      ours: edit({ activity: (a) => [...a, activity('Meal delivery')] }),
      expected: { activity: [personalCare, housing, medication, transport, activity('Meal delivery')] },
    },
    {
      name: 'identical changes on both sides are no conflict',
      theirs: edit({ status: 'completed', activity: ([, h, m]) => [twiceDaily, h!, m!] }),
      ours: edit({ status: 'completed', activity: ([, h, m]) => [twiceDaily, h!, m!] }),
      expected: { status: 'completed', activity: [twiceDaily, housing, medication] },
    },
    {
      name: 'one side removes an activity the other left alone',
      theirs: edit({ activity: ([p, , m]) => [p!, m!] }),
      ours: edit({ title: 'Shared plan (revised)' }),
      expected: { title: 'Shared plan (revised)', activity: [personalCare, medication] },
    },
    {
      name: 'one side removes an element, the other changes another',
      theirs: edit({ intent: 'order' }),
      ours: edit({}, ['note']),
      expected: { intent: 'order' },
      absent: ['note'],
    },
    {
      name: 'reordering activities is no change',
      theirs: edit({ activity: ([p, h, m]) => [m!, h!, p!] }),
      ours: edit({ period: { start: '2026-11-01', end: '2027-05-01' } }),
      expected: {
        period: { start: '2026-11-01', end: '2027-05-01' },
        activity: [medication, housing, personalCare],
      },
    },
    {
      name: 'key order inside an element is no change',
      theirs: edit({ activity: ([, h, m]) => [twiceDaily, h!, m!] }),
      ours: edit({
        activity: ([p, h, m]) => [
          { detail: Object.fromEntries(Object.entries(p!.detail!).reverse()) as CarePlanActivity['detail'] },
          h!,
          m!,
        ],
      }),
      expected: { activity: [twiceDaily, housing, medication] },
    },
  ])('merges: $name', ({ theirs, ours, expected, absent = [] }) => {
    const result = mergeCarePlans(base, theirs, ours);
    expect(result).toEqual({ merged: expect.objectContaining(expected) });
    const { merged } = result as { merged: CarePlan };
    // the stored version's identity is kept
    expect(merged).toMatchObject({ id: 'p1', meta: { versionId: '1' }, subject: base.subject });
    for (const key of absent) {
      expect(merged).not.toHaveProperty(key);
    }
  });

  it.each<{ name: string; theirs: CarePlan; ours: CarePlan; conflicts: string[] }>([
    {
      name: 'the same activity changed differently',
      theirs: edit({ activity: ([, h, m]) => [twiceDaily, h!, m!] }),
      ours: edit({ activity: ([, h, m]) => [morningsOnly, h!, m!] }),
      conflicts: ['activity "Personal care"'],
    },
    {
      name: 'an activity changed on one side and removed on the other',
      theirs: edit({ activity: ([p, h]) => [p!, h!] }),
      ours: edit({
        activity: ([p, h]) => [p!, h!, { detail: { ...medication.detail!, status: 'cancelled' } }],
      }),
      conflicts: ['activity "Medication review"'],
    },
    {
      name: 'both add an activity with the same key but different content',
      theirs: edit({ activity: (a) => [...a, transport] }),
      ours: edit({
        activity: (a) => [...a, activity('Transport to appointments', { scheduledString: 'weekly' })],
      }),
      conflicts: ['activity "Transport to appointments"'],
    },
    {
      name: 'the same scalar changed differently',
      theirs: edit({ status: 'on-hold' }),
      ours: edit({ status: 'revoked' }),
      conflicts: ['status'],
    },
    {
      name: 'an element removed on one side and changed on the other',
      theirs: edit({}, ['description']),
      ours: edit({ description: 'Stay at home with support' }),
      conflicts: ['description'],
    },
    {
      name: 'several at once, every one named; non-overlapping changes do not hide them',
      theirs: edit({
        period: { start: '2026-12-01' },
        note: [{ text: 'Prefers afternoons' }],
        activity: ([, h, m]) => [twiceDaily, h!, m!],
      }),
      ours: edit({
        period: { start: '2027-01-01' },
        note: [{ text: 'Prefers mornings' }, { text: 'Has a dog' }],
        title: 'Renamed',
        activity: ([, h, m]) => [morningsOnly, h!, m!],
      }),
      conflicts: ['note', 'period', 'activity "Personal care"'],
    },
  ])('refuses: $name', ({ theirs, ours, conflicts }) => {
    expect(mergeCarePlans(base, theirs, ours)).toEqual({ conflicts });
  });

  it('merges when nothing changed on either side', () => {
    expect(mergeCarePlans(base, base, base)).toEqual({ merged: base });
  });

  it('keeps two activities that share a key apart by their order', () => {
    const unnamed = (scheduledString: string): CarePlanActivity => ({
      detail: { status: 'scheduled', scheduledString },
    });
    const twoUnnamed = { ...base, activity: [unnamed('mon'), unnamed('tue')] };
    const theirs = { ...twoUnnamed, activity: [unnamed('mon'), unnamed('wed')] };
    const ours = { ...twoUnnamed, status: 'on-hold' as const };
    expect(mergeCarePlans(twoUnnamed, theirs, ours)).toEqual({
      merged: { ...twoUnnamed, status: 'on-hold', activity: [unnamed('mon'), unnamed('wed')] },
    });
  });
});
