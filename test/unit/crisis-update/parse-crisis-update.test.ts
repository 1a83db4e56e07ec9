import { describe, expect, it } from '@jest/globals';
import { parseCrisisUpdate } from '../../../src/adapters/crisis-update/parse-crisis-update.js';
import { goldenInput } from '../../support/golden.js';

// Fixtures are edited freely to build invalid documents, so they are untyped JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function validUpdate(): Json {
  return JSON.parse(goldenInput('crisis-update', 'high-risk-evening.input.json')) as Json;
}

function parse(doc: unknown) {
  return parseCrisisUpdate(Buffer.from(JSON.stringify(doc)));
}

describe('parseCrisisUpdate', () => {
  it('accepts a complete update', () => {
    const result = parse(validUpdate());
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([
      expect.objectContaining({ location: 'update CU-2025-0042', sourceId: 'CU-2025-0042' }),
    ]);
  });

  it('refuses an update lacking required fields, naming every one of them', () => {
    const update = validUpdate();
    for (const f of ['eventDateTime', 'presentingRisk', 'immediateResponse', 'currentPresentation']) {
      delete update[f];
    }
    update.temporarySupportChanges = ' ';
    delete update.familyContact;
    delete update.nextReviewAt;
    delete update.nextUpdateSupervisor.role;
    const result = parse(update);
    expect(result.accepted).toEqual([]);
    expect(result.rejected[0]!.issues).toEqual([
      { field: '/eventDateTime', message: 'is required' },
      { field: '/presentingRisk', message: 'is required' },
      { field: '/immediateResponse', message: 'is required' },
      { field: '/currentPresentation', message: 'is required' },
      { field: '/familyContact', message: 'is required' },
      { field: '/nextReviewAt', message: 'is required' },
      { field: '/temporarySupportChanges', message: 'must not be blank' },
      { field: '/nextUpdateSupervisor/role', message: 'is required' },
    ]);
  });

  it('refuses an empty object with all eleven required fields named', () => {
    const issues = parse({}).rejected[0]!.issues;
    expect(issues.map((i) => i.field)).toEqual([
      '/updateId',
      '/participant',
      '/author',
      '/eventDateTime',
      '/presentingRisk',
      '/immediateResponse',
      '/currentPresentation',
      '/temporarySupportChanges',
      '/familyContact',
      '/nextReviewAt',
      '/nextUpdateSupervisor',
    ]);
    expect(issues.every((i) => i.message === 'is required')).toBe(true);
  });

  it('names a missing supervisor name, participant identifiers and temporary support details', () => {
    const update = validUpdate();
    update.nextUpdateSupervisor = { role: 'Supervisor' };
    update.participant = {};
    delete update.temporarySupportIncrease.stepDownEvidence;
    update.temporarySupportIncrease.outcomeIndicators = [];
    expect(parse(update).rejected[0]!.issues).toEqual([
      { field: '/participant', message: 'needs medicaidId or memberId to identify the participant' },
      { field: '/nextUpdateSupervisor/name', message: 'is required' },
      { field: '/temporarySupportIncrease/stepDownEvidence', message: 'is required' },
      { field: '/temporarySupportIncrease/outcomeIndicators', message: 'must hold at least 1 item(s)' },
    ]);
  });

  it('requires the support increase block when that threshold is crossed', () => {
    const update = validUpdate();
    delete update.temporarySupportIncrease;
    update.thresholdsCrossed = ['temporary-support-increase'];
    expect(parse(update).rejected[0]!.issues).toEqual([
      {
        field: '/temporarySupportIncrease',
        message: 'is required when thresholdsCrossed holds temporary-support-increase',
      },
    ]);
  });

  it('checks threshold codes, date-time offsets and the order of times', () => {
    const update = validUpdate();
    update.thresholdsCrossed = ['ed-visit', 'fire'];
    update.eventDateTime = '2025-03-04T19:40:00';
    const issues = parse(update).rejected[0]!.issues;
    expect(issues).toEqual([
      {
        field: '/eventDateTime',
        message: 'must be a date-time with a UTC offset (e.g. 2025-03-04T19:40:00-05:00)',
      },
      {
        field: '/thresholdsCrossed/1',
        message: expect.stringMatching(/^must be one of ed-visit, mobile-crisis, police-ems, /),
      },
    ]);
    const late = validUpdate();
    late.nextReviewAt = '2025-03-04T19:00:00-05:00';
    late.temporarySupportIncrease.expectedReviewDate = '2025-03-01';
    expect(parse(late).rejected[0]!.issues).toEqual([
      { field: '/nextReviewAt', message: 'must be after eventDateTime' },
      { field: '/temporarySupportIncrease/expectedReviewDate', message: 'is before startDate' },
    ]);
  });

  it('takes a batch, accepting good updates and rejecting bad ones with pointers from the root', () => {
    const bad = validUpdate();
    bad.updateId = 'CU-BAD';
    delete bad.familyContact;
    const result = parse({ updates: [validUpdate(), bad] });
    expect(result.accepted.map((a) => a.location)).toEqual(['update 1 (CU-2025-0042)']);
    expect(result.rejected).toEqual([
      expect.objectContaining({
        location: 'update 2 (CU-BAD)',
        sourceId: 'CU-BAD',
        issues: [{ field: '/updates/1/familyContact', message: 'is required' }],
      }),
    ]);
  });
});
