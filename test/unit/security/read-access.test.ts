import { describe, expect, it } from '@jest/globals';
import type { CareTeam, Consent, Resource } from 'fhir/r4.js';
import type { FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import { isOnCareTeam } from '../../../src/security/care-team-access.js';
import { part2Consent } from '../../../src/security/part2.js';
import { shownTo } from '../../../src/security/read-access.js';

const NOW = new Date('2026-06-01T12:00:00Z');

function team(participant: CareTeam['participant'], status: CareTeam['status'] = 'active'): CareTeam {
  return { resourceType: 'CareTeam', id: 't', status, subject: { reference: 'Patient/1' }, participant };
}

describe('care-team membership for reads', () => {
  const sunrise = { member: { reference: 'Organization/sunrise-hcbs' } };

  it('counts a current member of an active team', () => {
    expect(isOnCareTeam(team([sunrise]), 'sunrise-hcbs', NOW)).toBe(true);
  });

  it.each([
    ['an inactive team', team([sunrise], 'inactive')],
    ['an entered-in-error team', team([sunrise], 'entered-in-error')],
    ['a membership that ended', team([{ ...sunrise, period: { end: '2026-05-31T00:00:00Z' } }])],
    ['a membership that has not started', team([{ ...sunrise, period: { start: '2026-07-01' } }])],
  ])('does not count %s', (_what, t) => {
    expect(isOnCareTeam(t, 'sunrise-hcbs', NOW)).toBe(false);
  });
});

describe('what a partner is shown of a care team', () => {
  const members = team([
    { member: { reference: 'Organization/sunrise-hcbs' } },
    { member: { reference: 'Organization/northside-bh' } },
  ]);
  const deps = (consents: Consent[]) => ({
    fhir: { search: async () => consents } as unknown as FhirGateway,
    identifierBase: 'https://carecoord.example.org',
    now: () => NOW,
  });
  const refs = (r: Resource): string[] =>
    ((r as CareTeam).participant ?? []).map((p) => p.member!.reference!);

  it('hides a Part 2 program from a partner without consent', async () => {
    expect(refs(await shownTo(deps([]), 'sunrise-hcbs', members, ['northside-bh']))).toEqual([
      'Organization/sunrise-hcbs',
    ]);
  });

  it('shows it with a Consent naming the partner, and to the program itself', async () => {
    const consent = { ...part2Consent('Patient/1', 'sunrise-hcbs', new Date('2026-01-01')), id: 'c' };
    expect(refs(await shownTo(deps([consent]), 'sunrise-hcbs', members, ['northside-bh']))).toHaveLength(2);
    expect(refs(await shownTo(deps([]), 'northside-bh', members, ['northside-bh']))).toHaveLength(2);
  });
});
