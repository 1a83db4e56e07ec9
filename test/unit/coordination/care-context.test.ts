import { describe, expect, it } from '@jest/globals';
import type { CareTeam } from 'fhir/r4.js';
import { careContext } from '../../../src/coordination/coordination-deps.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';

const AT = new Date('2026-12-06T12:00:00Z');
const COORDINATOR = { reference: 'Practitioner/pat-coordinator' };

const team: CareTeam = {
  resourceType: 'CareTeam',
  id: 'team-1',
  participant: [
    {
      role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: 'coordinator-of-the-day' }] }],
      member: COORDINATOR,
    },
  ],
};

/** Rules' dependencies whose FHIR server records every search it is asked for. */
function deps(stored: CareTeam[]) {
  const searches: string[] = [];
  const d = {
    identifierBase: 'https://carecoord.example.org',
    partners: { get: () => undefined },
    config: { calendars: { timeZone: 'America/Chicago' }, rights: {} },
    fhir: {
      search: async (type: string) => {
        searches.push(type);
        return stored;
      },
    },
  } as unknown as Parameters<typeof careContext>[0];
  return { d, searches };
}

describe('the care context of a rules run', () => {
  it('uses the team the write left, without reading it', async () => {
    const { d, searches } = deps([]);
    const care = await careContext(d, 'Patient/p1', AT, team);
    expect(care.coordinator).toEqual(COORDINATOR);
    expect(searches).toEqual([]);
  });

  it('knows a participant the write left without a team has none, without reading', async () => {
    const { d, searches } = deps([team]);
    const care = await careContext(d, 'Patient/p1', AT, null);
    expect(care.coordinator).toBeUndefined();
    expect(searches).toEqual([]);
  });

  it('reads the team when the record does not carry it (an older job)', async () => {
    const { d, searches } = deps([team]);
    const care = await careContext(d, 'Patient/p1', AT);
    expect(care.coordinator).toEqual(COORDINATOR);
    expect(searches).toEqual(['CareTeam']);
  });
});
