import { randomUUID } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  CareTeam,
  CareTeamParticipant,
  Communication,
  Identifier,
} from 'fhir/r4.js';
import type { FhirGateway } from './fhir-gateway.js';
import { anyOfIdentifiers, hubIdentifier, hubSystem, tokenOf } from './hub-identifiers.js';
import { CODE_SYSTEM } from './profiles.js';
import { checkCreated } from './references.js';

/** Reads the shared CareTeam of a participant (the one the ingest writer keeps). */
export async function sharedCareTeam(
  fhir: FhirGateway,
  identifierBase: string,
  patientId: string,
): Promise<CareTeam | undefined> {
  const id = hubIdentifier(identifierBase, 'care-team', patientId);
  const [team] = await fhir.search<CareTeam>('CareTeam', { identifier: `${id.system}|${id.value}` });
  return team;
}

/**
 * The shared CareTeams of the Patients holding any of `identifiers` (a chained search), so a
 * participant's team can be looked up in the same batch as the participant, before its id is known.
 */
export function sharedCareTeamsOfHolders(
  fhir: FhirGateway,
  identifierBase: string,
  identifiers: readonly Identifier[],
): Promise<CareTeam[]> {
  const usable = identifiers.filter((i) => i.system && i.value);
  if (usable.length === 0) {
    return Promise.resolve([]);
  }
  return fhir.search<CareTeam>('CareTeam', {
    identifier: `${hubSystem(identifierBase, 'care-team')}|`,
    'subject:Patient.identifier': anyOfIdentifiers(usable),
  });
}

/**
 * A notice that the shared care team changed (an agency joined or left, two records merged): a
 * `care-team-change` Communication about the participant, under the hub identifier given.
 */
export function careTeamChangeNotice(
  identifier: Identifier,
  patient: string,
  sent: string,
  text: string,
  more: Pick<Communication, 'sender' | 'recipient' | 'about'> = {},
): Communication {
  return {
    resourceType: 'Communication',
    identifier: [identifier],
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'care-team-change' }] }],
    subject: { reference: patient },
    sent,
    ...more,
    payload: [{ contentString: text }],
  };
}

/**
 * The transaction entry that writes a participant's shared CareTeam with `participant`: the team
 * there updated under If-Match (a concurrent change conflicts), or, when there is none, created on
 * its hub identifier only if still none ({@link checkTeamCreated} after the transaction).
 */
export function sharedCareTeamEntry(
  identifierBase: string,
  patientId: string,
  existing: CareTeam | undefined,
  participant: CareTeamParticipant[],
): BundleEntry {
  const identifier = hubIdentifier(identifierBase, 'care-team', patientId);
  const careTeam: CareTeam = {
    ...(existing ?? { resourceType: 'CareTeam', identifier: [identifier], name: 'Shared care team' }),
    status: existing?.status ?? 'active',
    subject: { reference: `Patient/${patientId}` },
    participant,
  };
  return existing
    ? {
        resource: careTeam,
        request: {
          method: 'PUT',
          url: `CareTeam/${existing.id}`,
          ifMatch: `W/"${existing.meta?.versionId}"`,
        },
      }
    : {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: careTeam,
        request: { method: 'POST', url: 'CareTeam', ifNoneExist: `identifier=${tokenOf(identifier)}` },
      };
}

/** {@link checkCreated} for a team entry of {@link sharedCareTeamEntry}, when it was a create. */
export function checkTeamCreated(entry: BundleEntry, response: Bundle, index: number): void {
  if (entry.request?.method === 'POST') {
    checkCreated(response, index, 'CareTeam');
  }
}
