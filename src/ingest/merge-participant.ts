import type {
  BundleEntry,
  CareTeam,
  CareTeamParticipant,
  FhirResource,
  Identifier,
  Patient,
  Resource,
} from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { anyOfIdentifiers, hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { mapReferences } from '../fhir/references.js';
import {
  careTeamChangeNotice,
  checkTeamCreated,
  sharedCareTeam,
  sharedCareTeamEntry,
} from '../fhir/shared-care-team.js';
import { ParticipantConflictError, replacedBy } from './participant-resolver.js';

/** Resources that record what happened to the merged Patient, not its care: they keep pointing at it. */
const KEPT_AS_WRITTEN: ReadonlySet<string> = new Set(['Patient', 'Provenance', 'AuditEvent', 'CareTeam']);

/**
 * A merge (HL7 A40; docs/architecture.md, "Merges"): the Patient holding `merged` identifiers is
 * another record of the survivor's person. In one transaction its records follow the survivor
 * (every resource of its compartment that points at it is pointed at the survivor; audit records
 * stay as written), the members of its shared care team join the survivor's, it is kept inactive
 * with a `replaced-by` link (so a record still carrying its identifiers resolves to the survivor),
 * and every agency on either care team is told. Returns the merged Patient, or undefined when
 * there is nothing to merge (the hub never knew that record, or it is merged already).
 */
export async function mergeParticipant(
  fhir: FhirGateway,
  identifierBase: string,
  survivorId: string,
  merged: readonly Identifier[],
  at: string,
): Promise<string | undefined> {
  const usable = merged.filter((i) => i.system && i.value);
  if (usable.length === 0) {
    return undefined;
  }
  const candidates = (
    await fhir.search<Patient>('Patient', {
      identifier: anyOfIdentifiers(usable),
    })
  ).filter((p) => p.id !== survivorId && !replacedBy(p));
  if (candidates.length > 1) {
    throw new ParticipantConflictError(
      `MRG-1 names ${candidates.length} participants; they must be reconciled before the merge`,
      'MRG-1',
    );
  }
  const old = candidates[0];
  if (!old?.id) {
    return undefined;
  }
  const survivor = await fhir.read<Patient>('Patient', survivorId);
  const from = `Patient/${old.id}`;
  const to = `Patient/${survivorId}`;
  // $everything also returns what those resources refer to (Organizations, ...): only what points
  // at the merged Patient moves.
  const compartment = (await fhir.everything(old.id, Number.POSITIVE_INFINITY)).filter(
    (r) => !KEPT_AS_WRITTEN.has(r.resourceType) && JSON.stringify(r).includes(`"${from}`),
  );
  const [oldTeam, team] = await Promise.all([
    sharedCareTeam(fhir, identifierBase, old.id),
    sharedCareTeam(fhir, identifierBase, survivorId),
  ]);
  const members = mergedMembers(team?.participant ?? [], oldTeam?.participant ?? []);
  const teamEntry = sharedCareTeamEntry(identifierBase, survivorId, team, members);
  const entries: BundleEntry[] = [
    ...compartment.map((r) => versionedPut(repointed(r, from, to))),
    versionedPut({
      ...old,
      active: false,
      link: [...(old.link ?? []), { other: { reference: to }, type: 'replaced-by' }],
    }),
    versionedPut<Patient>({
      ...survivor,
      link: [...(survivor.link ?? []), { other: { reference: from }, type: 'replaces' }],
    }),
    ...(oldTeam ? [versionedPut<CareTeam>({ ...oldTeam, status: 'inactive' })] : []),
    teamEntry,
    mergeNotice(identifierBase, old.id, survivorId, members, at),
  ];
  const response = await fhir.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  checkTeamCreated(teamEntry, response, entries.indexOf(teamEntry));
  return from;
}

/** Every reference to `from` (as `Patient/<id>`, with or without a version) pointed at `to`. */
function repointed<T extends Resource>(resource: T, from: string, to: string): T {
  return mapReferences(resource, (ref) =>
    ref.reference === from || ref.reference?.startsWith(`${from}/`) ? { ...ref, reference: to } : ref,
  );
}

function versionedPut<T extends Resource>(resource: T): BundleEntry {
  return {
    resource: resource as FhirResource,
    request: {
      method: 'PUT',
      url: `${resource.resourceType}/${resource.id}`,
      ...(resource.meta?.versionId ? { ifMatch: `W/"${resource.meta.versionId}"` } : {}),
    },
  };
}

/** The survivor's members, then the merged record's members the survivor's team did not have. */
function mergedMembers(
  kept: readonly CareTeamParticipant[],
  joining: readonly CareTeamParticipant[],
): CareTeamParticipant[] {
  const key = (p: CareTeamParticipant): string =>
    `${p.member?.reference ?? p.member?.display}|${(p.role ?? [])
      .flatMap((r) => r.coding ?? [])
      .map((c) => c.code)
      .join(',')}`;
  const seen = new Set(kept.map(key));
  return [...kept, ...joining.filter((p) => !seen.has(key(p)))];
}

/** Tells every agency on either care team that the two records are now one. */
function mergeNotice(
  identifierBase: string,
  oldId: string,
  survivorId: string,
  members: readonly CareTeamParticipant[],
  at: string,
): BundleEntry {
  const identifier = hubIdentifier(identifierBase, 'merge-notice', `${oldId}.${survivorId}`);
  const agencies = [
    ...new Set(
      members.flatMap((m) => (m.member?.reference?.startsWith('Organization/') ? [m.member.reference] : [])),
    ),
  ];
  const notice = careTeamChangeNotice(
    identifier,
    `Patient/${survivorId}`,
    at,
    `Patient/${oldId} was merged into Patient/${survivorId}: its plans, tasks and visits are now this participant's, and its care team joined this one`,
    { recipient: agencies.map((reference) => ({ reference })) },
  );
  return {
    resource: notice,
    request: { method: 'PUT', url: `Communication?identifier=${tokenOf(identifier)}` },
  };
}
