import { describe, expect, it } from '@jest/globals';
import type { CareTeam } from 'fhir/r4.js';
import { coordinatorOfTheDay } from '../../../src/coordination/coordinator.rules.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';

const role = (code: string) => [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code }] }];
const team: CareTeam = {
  resourceType: 'CareTeam',
  participant: [
    { role: role('care-manager'), member: { display: 'Case manager' } },
    {
      role: role('coordinator-of-the-day'),
      member: { display: 'Alex' },
      period: { start: '2026-11-01', end: '2026-11-30' },
    },
    {
      role: role('coverage-coordinator'),
      member: { display: 'Blake' },
      period: { start: '2026-11-24', end: '2026-11-25' },
    },
  ],
};

describe('coordinatorOfTheDay', () => {
  it.each([
    ['2026-11-22T09:00:00Z', 'Alex'],
    ['2026-11-24T09:00:00Z', 'Blake'],
    ['2026-11-25T23:59:00Z', 'Blake'],
    ['2026-11-26T00:00:00Z', 'Blake'], // still the 25th in New York
    ['2026-11-26T05:00:00Z', 'Alex'],
    ['2026-12-01T09:00:00Z', undefined],
  ])('on %s is %s', (at, who) => {
    expect(coordinatorOfTheDay(team, new Date(at), 'America/New_York')?.display).toBe(who);
  });

  it('takes the day in the hub time zone', () => {
    expect(coordinatorOfTheDay(team, new Date('2026-11-26T00:00:00Z'), 'UTC')?.display).toBe('Alex');
  });

  it('is nobody when the participant has no care team', () => {
    expect(coordinatorOfTheDay(undefined, new Date('2026-11-22T09:00:00Z'), 'UTC')).toBeUndefined();
  });
});
