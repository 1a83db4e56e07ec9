import { describe, expect, it } from '@jest/globals';
import type { CarePlan, Extension } from 'fhir/r4.js';
import path from 'node:path';
import {
  changeControlIssues,
  loadPlanChangeControl,
  planChangeTriggers,
} from '../../../src/coordination/plan-change-control.js';
import { EXTENSION } from '../../../src/fhir/profiles.js';

const root = path.resolve(import.meta.dirname, '../../..');
const partners = new Set(['sunrise-hcbs', 'northside-bh']);
const plan = (extension?: Extension[]): CarePlan => ({
  resourceType: 'CarePlan',
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/1' },
  ...(extension ? { extension } : {}),
});
const control = (parts: Extension[]): Extension[] => [{ url: EXTENSION.planChangeControl, extension: parts }];
const base = `CarePlan.extension('${EXTENSION.planChangeControl}')`;

describe('plan change control', () => {
  it('names every missing part of the change control', () => {
    expect(changeControlIssues(plan(), partners).map((i) => i.field)).toEqual([base]);
    const partial = control([
      {
        url: 'control',
        extension: [{ url: 'owner', valueReference: { reference: 'Organization/unknown' } }],
      },
    ]);
    expect(changeControlIssues(plan(partial), partners).map((i) => `${i.field} ${i.message}`)).toEqual([
      `${base}.whatChanged is required: say what changed in this version`,
      `${base}.risk is required: name at least one risk`,
      `${base}.control[0].description is required`,
      `${base}.control[0].owner must name the owning agency as Organization/<partner id> (Organization/unknown is not a partner)`,
    ]);
  });

  it('accepts a version that says what changed, the risks and each control with its owning agency', () => {
    const complete = control([
      { url: 'whatChanged', valueString: 'Visits move to the shelter' },
      { url: 'risk', valueString: 'Missed medication' },
      {
        url: 'control',
        extension: [
          { url: 'description', valueString: 'Daily check-in' },
          { url: 'owner', valueReference: { reference: 'Organization/sunrise-hcbs' } },
        ],
      },
    ]);
    expect(changeControlIssues(plan(complete), partners)).toEqual([]);
  });

  it('finds the triggers in events, repeated missed visits by the configured count', async () => {
    const config = await loadPlanChangeControl(
      path.join(root, 'config/coordination/plan-change-control.yaml'),
    );
    const at = '2026-11-20T10:00:00Z';
    expect(
      planChangeTriggers(config, {
        type: 'plan-change-trigger',
        at,
        trigger: 'housing-loss',
        focus: 'Flag/1',
      }),
    ).toEqual(['housing-loss']);
    const crisis = {
      type: 'crisis-update' as const,
      at,
      communication: 'Communication/1',
      supervisor: { display: 'Dana' },
      nextReviewAt: at,
    };
    expect(planChangeTriggers(config, { ...crisis, thresholds: ['self-harm-risk'] })).toEqual([
      'new-behavioral-risk',
    ]);
    expect(planChangeTriggers(config, { ...crisis, thresholds: ['injury'] })).toEqual([]);
    const missed = { type: 'missed-visit' as const, at, flag: 'Flag/2', task: 'Task/3' };
    expect(planChangeTriggers(config, missed, config.repeatedMissedVisits.count - 1)).toEqual([]);
    expect(planChangeTriggers(config, missed, config.repeatedMissedVisits.count)).toEqual([
      'repeated-missed-visits',
    ]);
  });
});
