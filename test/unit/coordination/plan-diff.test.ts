import { describe, expect, it } from '@jest/globals';
import type { CarePlan } from 'fhir/r4.js';
import { describeChanges, diffCarePlans } from '../../../src/coordination/plan-diff.js';

const base: CarePlan = {
  resourceType: 'CarePlan',
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/1' },
  period: { start: '2026-11-01' },
  activity: [
    {
      detail: {
        status: 'scheduled',
        description: 'Personal care',
        performer: [{ display: 'Sunrise' }],
        scheduledString: 'daily',
      },
    },
    { detail: { status: 'scheduled', description: 'Housing check-in', performer: [{ display: 'Harbor' }] } },
  ],
  note: [{ text: 'Prefers mornings' }],
};

describe('diffCarePlans', () => {
  it('reports a first version as a new plan that alters delivery', () => {
    const diff = diffCarePlans(undefined, base);
    expect(diff.altersDelivery).toBe(true);
    expect(describeChanges(diff)).toBe('New plan with 2 activities');
  });

  it('finds activity changes by what they are, not where they sit', () => {
    const after: CarePlan = {
      ...base,
      activity: [
        base.activity![1]!,
        { detail: { ...base.activity![0]!.detail!, scheduledString: 'twice daily' } },
        {
          detail: {
            status: 'not-started',
            description: 'Medication review',
            performer: [{ display: 'Northside' }],
          },
        },
      ],
    };
    const diff = diffCarePlans(base, after);
    expect(diff.changes).toEqual([
      {
        element: 'activity',
        change: 'changed',
        summary: 'activity changed: Personal care by Sunrise (twice daily) [scheduled]',
      },
      {
        element: 'activity',
        change: 'added',
        summary: 'activity added: Medication review by Northside [not-started]',
      },
    ]);
    expect(diff.altersDelivery).toBe(true);
  });

  it('reports status and removals, and a note alone does not alter delivery', () => {
    const statusOnly = diffCarePlans(base, { ...base, status: 'on-hold', activity: [base.activity![0]!] });
    expect(describeChanges(statusOnly)).toBe(
      'status: active -> on-hold; activity removed: Housing check-in by Harbor [scheduled]',
    );

    const noteOnly = diffCarePlans(base, { ...base, note: [{ text: 'Prefers afternoons' }] });
    expect(noteOnly.altersDelivery).toBe(false);
    expect(noteOnly.changes.map((c) => c.change)).toEqual(['added', 'removed']);
  });

  it('sees no change when only key order or meta differ', () => {
    const same = JSON.parse(JSON.stringify(base)) as CarePlan;
    same.meta = { versionId: '7' };
    expect(diffCarePlans(base, same).changes).toEqual([]);
  });
});
