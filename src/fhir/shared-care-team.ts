import type { CareTeam } from 'fhir/r4.js';
import type { FhirGateway } from './fhir-gateway.js';
import { hubIdentifier } from './hub-identifiers.js';

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
