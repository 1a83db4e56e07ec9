import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { CareTeam } from 'fhir/r4.js';
import { loadPartners, type PartnerRegistry } from '../../../src/config/partners.js';
import { assignCoordinator } from '../../../src/coordination/coordinator-assignment.js';
import { VersionConflictError } from '../../../src/fhir/fhir-errors.js';
import type { FhirGateway } from '../../../src/fhir/fhir-gateway.js';

const root = path.resolve(import.meta.dirname, '../../..');
const HOUSING = { member: { reference: 'Organization/harbor-housing' } };

/**
 * A FHIR server on which another writer gets in first: it creates the participant's team just
 * after the hub found none, or changes it just after the hub read it.
 */
function server(race: 'creates the team' | 'changes the team') {
  let team: CareTeam | undefined =
    race === 'changes the team'
      ? { resourceType: 'CareTeam', id: 't1', meta: { versionId: '1' }, participant: [] }
      : undefined;
  let searches = 0;
  const fhir = {
    search: async () => {
      const found = team ? [team] : [];
      if (searches++ === 0) {
        // The other writer, just after this look.
        team =
          race === 'creates the team'
            ? { resourceType: 'CareTeam', id: 't1', meta: { versionId: '1' }, participant: [HOUSING] }
            : { ...team!, meta: { versionId: '2' }, participant: [HOUSING] };
      }
      return found;
    },
    read: async (type: string) => (type === 'CareTeam' ? team : { resourceType: 'Patient', id: 'p1' }),
    createIfNoneExist: async (resource: CareTeam) =>
      team
        ? { resource: team, created: false }
        : { resource: (team = { ...resource, id: 't1' }), created: true },
    update: async (resource: CareTeam, { ifMatch }: { ifMatch?: string }) => {
      if (ifMatch !== team!.meta!.versionId) {
        throw new VersionConflictError(412, 'PUT CareTeam/t1', undefined);
      }
      return (team = { ...resource, meta: { versionId: String(Number(ifMatch) + 1) } });
    },
  } as unknown as FhirGateway;
  return { fhir, team: () => team! };
}

describe('assigning a coordinator while another writer changes the care team', () => {
  let partners: PartnerRegistry;
  beforeAll(async () => {
    partners = await loadPartners(path.join(root, 'config/partners'), {});
  });

  for (const race of ['creates the team', 'changes the team'] as const) {
    it(`keeps both changes when the other writer ${race}`, async () => {
      const { fhir, team } = server(race);
      const deps = {
        fhir,
        partners,
        identifierBase: 'https://carecoord.example.org',
        timeZone: 'UTC',
        now: () => new Date(),
      };
      await assignCoordinator(deps, 'p1', { display: 'Dana Reyes', organization: 'northside-bh' });
      const members = team().participant?.map((p) => p.member?.reference ?? p.member?.display);
      expect(members).toEqual(['Organization/harbor-housing', 'Dana Reyes']);
    });
  }
});
