import { createHash } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  CareTeam,
  CareTeamParticipant,
  FhirResource,
  Identifier,
  Patient,
  Provenance,
  Resource,
} from 'fhir/r4.js';
import { hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { checkCreated, locationOf } from '../fhir/references.js';
import {
  careTeamChangeNotice,
  checkTeamCreated,
  sharedCareTeam,
  sharedCareTeamEntry,
  sharedCareTeamsOfHolders,
} from '../fhir/shared-care-team.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { VersionConflictError } from '../fhir/fhir-errors.js';
import { searchUrl, wholeSearchset, type FhirGateway, type SearchRequest } from '../fhir/fhir-gateway.js';
import type { CareTeamMember, HubEvent, MappedRecord, ResourceWrite } from '../mappers/types.js';
import { PARTICIPANT_REF } from '../mappers/types.js';
import type { IdentityLock } from './identity-lock.js';
import { groundReferences } from './ground-references.js';
import { mergeParticipant } from './merge-participant.js';
import { resolveParticipant, type ResolvedParticipant } from './participant-resolver.js';
import { adoptParticipant } from './identity-review.js';
import { versionedPlanEntry } from './plan-concurrency.js';
import {
  holdsLaterState,
  lookUpHeld,
  orderedEntry,
  type HeldLookup,
  type OrderedWrite,
} from './source-order.js';

/** Where a record came from: enough to name it in a Provenance and in error messages. */
export interface SourceRecord {
  readonly partnerId: string;
  readonly format: string;
  readonly sourceId: string;
  readonly location: string;
  /** When the hub accepted it (ISO 8601). */
  readonly receivedAt: string;
  /** The partner's `mappingVersion` the record was mapped with, if its file names one. */
  readonly mappingVersion?: string;
}

/** What a write did: the participant, the server references of each write, and resolved events. */
export interface WriteOutcome {
  readonly patient: string;
  /** fullUrl of each write (as the mapper named it) -> `Type/id` on the server. */
  readonly written: Readonly<Record<string, string>>;
  /** `Type/id` of each write -> the version the transaction left it at. */
  readonly versions: Readonly<Record<string, string>>;
  readonly provenance: string;
  readonly events: readonly HubEvent[];
  /** The participant's shared CareTeam as the write left it (null: none); absent when not known. */
  readonly careTeam?: CareTeam | null;
  /** The participant's identifiers as the write left them; absent when not known (an adoption, a merge). */
  readonly participantIdentifiers?: readonly Identifier[];
  /**
   * For a record that wrote a CarePlan: each CarePlan and the Provenance as the server stored them
   * (`Type/id` -> resource; the transaction answered with them), so routing need not read them back.
   */
  readonly stored?: Readonly<Record<string, Resource>>;
  /** The searches {@link WriteOptions.searchesAfterWrite} asked for, answered whole, by URL. */
  readonly answered?: Readonly<Record<string, readonly Resource[]>>;
}

const MAX_CONFLICT_RETRIES = 3;

/** The participant as the write's checks are told of it: they start while it is being resolved. */
export interface ParticipantBeingResolved {
  /** The record's identifiers of the participant, when they are what finds it (not an adoption or a merge). */
  readonly identifiers?: readonly Identifier[];
  /** The participant's `Patient/<id>`, once resolved (and any merge done). */
  readonly patient: Promise<string>;
}

export interface WriteOptions {
  /** The coordination rules' checks, started with the write's first reads; they refuse by throwing. */
  readonly beforeWrite?: (participant: ParticipantBeingResolved) => Promise<void>;
  /** Serialises, across hub processes, the first reads of records naming the same identifiers. */
  readonly identityLock?: IdentityLock;
  /** The Patient an engineer decided the record is about (identity review: the same person). */
  readonly adoptInto?: string;
  /**
   * Searches to make in the record's transaction after its writes (what the coordination rules
   * will ask about the record), given the sender, the participant, the resources to be written and
   * the record's events: answered there, they cost no request of their own.
   */
  readonly searchesAfterWrite?: (
    partnerId: string,
    patient: string,
    written: readonly Resource[],
    events: readonly HubEvent[],
  ) => readonly SearchRequest[];
}

/**
 * Applies one mapped record to the FHIR server in one transaction: every resource created while
 * its identifier is new, else written over the version held under it (the same record twice yields
 * the same resources, with no new version when nothing changed), the shared CareTeam merged, and a
 * Provenance naming the partner and the source record. A CarePlan edit that names its base version is written with `If-Match`,
 * merged with a newer version, or refused naming the conflicts ({@link versionedPlanEntry}).
 * Retries when another writer changed the CareTeam or the CarePlan in between. `beforeWrite` (the
 * coordination rules' checks) starts with the write's first reads and is told the participant once
 * resolved; it refuses by throwing, and nothing is written then.
 */
export async function writeMappedRecord(
  fhir: FhirGateway,
  sent: MappedRecord,
  source: SourceRecord,
  identifierBase: string,
  options: WriteOptions = {},
): Promise<WriteOutcome> {
  const { identityLock, adoptInto } = options;
  const mapped = sent.sendersReferences ? await grounded(fhir, sent, identifierBase, source.partnerId) : sent;
  const { merged } = mapped.participant;
  // A record found by its identifiers holds the identity lock while its first reads go out: its
  // participant's lookup is then the conditional create that makes a new one, in the same batch.
  const opening =
    identityLock && !adoptInto && !merged
      ? await identityLock(mapped.participant.identifiers, async () => {
          const reads = firstReads(fhir, mapped, source, identifierBase, { ...options, lock: 'held' });
          await reads.resolved.catch(() => undefined);
          return reads;
        })
      : firstReads(fhir, mapped, source, identifierBase, { ...options, lock: identityLock });
  const { firstLook, teams, resolved, checked } = opening;
  const [{ patientId, created, identifiers }, provenance] = await Promise.all([resolved, opening.provenance]);
  const patient = `Patient/${patientId}`;
  const earlier = provenance && (await earlierWrite(fhir, mapped, source, patient, provenance));
  if (earlier) {
    return earlier;
  }
  const known = identifiers && !merged ? { participantIdentifiers: identifiers } : {};
  for (let attempt = 0; ; attempt++) {
    try {
      const first = attempt === 0;
      const outcome = await writeOnce(fhir, mapped, source, identifierBase, patient, {
        held: first ? firstLook : lookUpHeld(fhir, mapped.writes),
        // A participant this record created has no team yet. A team not found by the first look
        // may still be there (a participant found through a merge): it is read.
        team: !first
          ? undefined
          : created
            ? null
            : (await teams)?.find((t) => t.subject?.reference === patient),
        checked: checked ?? Promise.resolve(),
        searchesAfterWrite: options.searchesAfterWrite,
      });
      return { ...outcome, ...known };
    } catch (err) {
      if (err instanceof VersionConflictError && attempt < MAX_CONFLICT_RETRIES) {
        continue;
      }
      throw err;
    }
  }
}

/** The reads a record starts with, issued in one turn so they travel as one batch. */
interface FirstReads {
  /** What the server holds under each write's identifier. */
  readonly firstLook: HeldLookup;
  /** The participant's care team found by the record's identifiers; undefined: read it later. */
  readonly teams: Promise<CareTeam[] | undefined> | undefined;
  /** The participant; its identifiers unknown when adopted into a Patient an engineer named. */
  readonly resolved: Promise<
    Omit<ResolvedParticipant, 'identifiers'> & { identifiers?: readonly Identifier[] }
  >;
  /** The coordination rules' checks, started with the reads. */
  readonly checked: Promise<void> | undefined;
  /** An earlier attempt's Provenance. */
  readonly provenance: Promise<Provenance | undefined>;
}

function firstReads(
  fhir: FhirGateway,
  mapped: MappedRecord,
  source: SourceRecord,
  identifierBase: string,
  { beforeWrite, adoptInto, lock }: WriteOptions & { readonly lock: IdentityLock | 'held' | undefined },
): FirstReads {
  // What the server holds under each write's identifier, and the participant's care team, are
  // looked up with the participant (one batch). A merge changes the team first: read it after.
  const firstLook = lookUpHeld(fhir, mapped.writes);
  const { merged } = mapped.participant;
  // A server that refuses the chained search (or fails it) leaves the team to be read directly.
  const teams =
    adoptInto || merged
      ? undefined
      : sharedCareTeamsOfHolders(fhir, identifierBase, mapped.participant.identifiers).catch(() => undefined);
  // The participant (merged first when the record says so), an earlier attempt's Provenance and
  // the checks' own reads are looked up together (one batch).
  const resolved = (
    adoptInto
      ? adoptParticipant(
          fhir,
          identifierBase,
          adoptInto,
          mapped.participant.identifiers,
          source.receivedAt,
        ).then((id) => ({ patientId: id, created: false }))
      : resolveParticipant(fhir, mapped.participant.identifiers, mapped.participant.demographics, lock)
  ).then(async (participant) => {
    if (merged) {
      await mergeParticipant(fhir, identifierBase, participant.patientId, merged, source.receivedAt);
    }
    return participant;
  });
  const resolvedPatient = resolved.then(({ patientId }) => `Patient/${patientId}`);
  const checked = beforeWrite?.({
    ...(adoptInto || merged ? {} : { identifiers: mapped.participant.identifiers }),
    patient: resolvedPatient,
  });
  const provenance = fhir.readIfPresent<Provenance>('Provenance', provenanceId(source, mapped));
  // Each is awaited later (after the identity lock is given back), or not needed: a read that
  // fails meanwhile (the server unreachable), a participant that cannot be resolved (the checks
  // may never ask for it) or a refusal that comes first is not an unhandled rejection.
  for (const started of [resolvedPatient, checked, provenance]) {
    started?.catch(() => undefined);
  }
  return {
    firstLook,
    teams,
    resolved,
    checked,
    provenance,
  };
}

/** The record with its dangling relative references made logical (ingest/ground-references.ts). */
async function grounded(
  fhir: FhirGateway,
  mapped: MappedRecord,
  identifierBase: string,
  partnerId: string,
): Promise<MappedRecord> {
  const { demographics } = mapped.participant;
  const values = await groundReferences<unknown>(
    fhir,
    [...mapped.writes.map((w) => w.resource), demographics],
    (type, id) => ({ system: `${identifierBase}/sid/${partnerId}/${type}`, value: id }),
  );
  return {
    ...mapped,
    participant: {
      ...mapped.participant,
      ...(demographics ? { demographics: values.at(-1) as Patient } : {}),
    },
    writes: mapped.writes.map((w, i) => ({ ...w, resource: values[i] as FhirResource })),
  };
}

/** What one attempt at the write starts from. */
interface AttemptInputs {
  /** What the server holds under the ordered writes' identifiers, as read for this attempt. */
  readonly held: HeldLookup;
  /** The participant's shared care team as already looked up (null: none); undefined: read it. */
  readonly team: CareTeam | null | undefined;
  /** The coordination rules' checks; the transaction waits for them. */
  readonly checked: Promise<void>;
  readonly searchesAfterWrite: WriteOptions['searchesAfterWrite'];
}

async function writeOnce(
  fhir: FhirGateway,
  mapped: MappedRecord,
  source: SourceRecord,
  identifierBase: string,
  patient: string,
  { held, team, checked, searchesAfterWrite }: AttemptInputs,
): Promise<WriteOutcome> {
  // The care team is read beside the record's own reads: neither depends on the other.
  const patientId = patient.split('/')[1]!;
  const [planned, existingTeam] = await Promise.all([
    Promise.all(
      mapped.writes.map(async (w): Promise<OrderedWrite> => {
        const resource = replaceReference(w.resource, PARTICIPANT_REF, patient);
        const versioned = await versionedPlanEntry(fhir, held, w, resource, mapped.writes);
        if (versioned) {
          return { kind: 'write', entry: versioned };
        }
        return orderedEntry(held, w, resource, source.receivedAt);
      }),
    ),
    team === undefined ? sharedCareTeam(fhir, identifierBase, patientId) : (team ?? undefined),
    checked,
  ]);
  const careTeam = careTeamEntry(identifierBase, patientId, existingTeam, mapped.careTeamMembers ?? []);
  // A record that is one state (an ADT message, an HMIS client, a plan version) is outdated as a
  // whole when the server holds a later state of any part of it: none of its dated parts is written.
  const outdated = mapped.orderedAsOne === true && planned.some((p) => p.kind === 'stale');
  const decided = planned.map((p, i) =>
    outdated && p.kind === 'write' && isOrdered(mapped.writes[i]!) ? ({ kind: 'left-out' } as const) : p,
  );
  const entries = decided.flatMap((p) => (p.kind === 'write' ? [p.entry] : []));

  const teamAt = entries.length;
  if (careTeam) {
    entries.push(careTeam.entry);
    entries.push(...careTeam.joined.map((agency) => joinNotice(identifierBase, patient, agency, source)));
  }

  const provenance = provenanceFor(source, identifierBase, entries, provenanceId(source, mapped));
  entries.push({ resource: provenance, request: { method: 'PUT', url: `Provenance/${provenance.id}` } });
  // A transaction's GETs run after its writes: they see the record written.
  const searches = (
    searchesAfterWrite?.(
      source.partnerId,
      patient,
      mapped.writes.flatMap((w, i) => (decided[i]!.kind === 'write' ? [w.resource] : [])),
      outdated ? [] : mapped.events,
    ) ?? []
  ).map((search) => ({ search, url: searchUrl(search) }));
  const searchesAt = entries.length;
  entries.push(...searches.map(({ url }) => ({ request: { method: 'GET' as const, url } })));

  // A plan version is routed next: the server answers with what it stored, which routing uses
  // instead of reading it back.
  const routed = entries.some((e) => e.resource?.resourceType === 'CarePlan');
  const response = await fhir.transaction(
    { resourceType: 'Bundle', type: 'transaction', entry: entries },
    { returnResources: routed },
  );
  let teamAfter = existingTeam ?? null;
  if (careTeam) {
    checkTeamCreated(careTeam.entry, response, teamAt);
    const { reference, version } = locationOf(response, teamAt);
    teamAfter = {
      ...(careTeam.entry.resource as CareTeam),
      id: reference.split('/')[1],
      meta: { versionId: version },
    };
  }
  const written: Record<string, string> = {};
  const versions: Record<string, string> = {};
  const stale = new Set<string>();
  let sent = 0;
  mapped.writes.forEach((w, i) => {
    const p = decided[i]!;
    if (p.kind === 'write') {
      if (p.createOnly) {
        checkCreated(response, sent, `${w.resource.resourceType} (${w.fullUrl})`);
      }
      const { reference, version } = locationOf(response, sent++);
      written[w.fullUrl] = reference;
      versions[reference] = version;
      return;
    }
    stale.add(w.fullUrl);
    if (p.kind === 'stale') {
      written[w.fullUrl] = p.reference;
    }
  });
  const events = eventsOf(mapped, written, stale, outdated);
  const answered = Object.fromEntries(
    searches.flatMap(({ search, url }, i) => {
      const found = wholeSearchset(response.entry?.[searchesAt + i]?.resource, search);
      return found ? [[url, found] as const] : [];
    }),
  );
  return {
    ...(searches.length > 0 ? { answered } : {}),
    patient,
    written,
    versions,
    provenance: `Provenance/${provenance.id}`,
    events,
    careTeam: teamAfter,
    ...(routed ? { stored: storedForRouting(response) } : {}),
  };
}

/** The CarePlans and the Provenance a transaction answered with, by `Type/id`. */
function storedForRouting(response: Bundle): Record<string, Resource> {
  return Object.fromEntries(
    (response.entry ?? []).flatMap(({ resource: r }) =>
      r?.id && (r.resourceType === 'CarePlan' || r.resourceType === 'Provenance')
        ? [[`${r.resourceType}/${r.id}`, r] as const]
        : [],
    ),
  );
}

/** What a stale write would have said happened is not news: the server holds a later state. */
function eventsOf(
  mapped: MappedRecord,
  written: Readonly<Record<string, string>>,
  stale: ReadonlySet<string>,
  outdated: boolean,
): HubEvent[] {
  return outdated
    ? []
    : mapped.events
        .filter((e) => !Object.values(e).some((v) => typeof v === 'string' && stale.has(v)))
        .map((e) => replaceReferences(e, written));
}

function isOrdered(w: ResourceWrite): boolean {
  return w.sourceTime !== undefined || w.sourceVersion !== undefined;
}

/**
 * The shared CareTeam of the participant, with the record's members merged in, and the agencies
 * that joined; undefined if unchanged.
 */
function careTeamEntry(
  identifierBase: string,
  patientId: string,
  existing: CareTeam | undefined,
  members: readonly CareTeamMember[],
): { entry: BundleEntry; joined: string[] } | undefined {
  if (members.length === 0) {
    return undefined;
  }
  const participants = [...(existing?.participant ?? [])];
  let changed = !existing;
  const wasMember = (agency: string): boolean => participants.some((p) => p.member?.reference === agency);
  const joined = new Set<string>();
  for (const m of members) {
    const present = participants.some(
      (p) =>
        p.member?.reference === m.member.reference &&
        p.member?.display === m.member.display &&
        p.role?.some((r) => r.coding?.some((c) => c.code === m.role)),
    );
    if (!present) {
      const agency = m.member.reference;
      if (agency?.startsWith('Organization/') && !wasMember(agency)) {
        joined.add(agency);
      }
      participants.push(toParticipant(m));
      changed = true;
    }
  }
  if (!changed) {
    return undefined;
  }
  const entry = sharedCareTeamEntry(identifierBase, patientId, existing, participants);
  return { entry, joined: [...joined] };
}

/**
 * A care-team join is a decision the hub records: who joined, through which record, for the
 * coordinators to see on the participant's timeline (and end, if it is wrong). One per agency and
 * participant, written in the same transaction as the join.
 */
function joinNotice(
  identifierBase: string,
  patient: string,
  agency: string,
  source: SourceRecord,
): BundleEntry {
  const identifier = hubIdentifier(
    identifierBase,
    'care-team-notice',
    `${patient.split('/')[1]}.${agency.split('/')[1]}`,
  );
  const notice = careTeamChangeNotice(
    identifier,
    patient,
    source.receivedAt,
    `${agency.split('/')[1]} joined the shared care team through ${source.format} ${source.location}; staff can end the membership if it is wrong`,
    { sender: { reference: agency } },
  );
  return {
    resource: notice,
    request: { method: 'PUT', url: `Communication?identifier=${tokenOf(identifier)}` },
  };
}

function toParticipant(m: CareTeamMember): CareTeamParticipant {
  return {
    role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: m.role }] }],
    member: m.member,
    ...(m.period ? { period: m.period } : {}),
  };
}

/** The Provenance id of a record: derived from the record, so the same record sent again rewrites it. */
export function provenanceId(source: SourceRecord, mapped: MappedRecord): string {
  const contentHash = hashOf(mapped);
  return `prov-${createHash('sha256')
    .update([source.partnerId, source.format, source.sourceId, contentHash].join('|'))
    .digest('hex')
    .slice(0, 40)}`;
}

/**
 * What an earlier attempt at this very acceptance of the record wrote, if it got as far as the
 * server committing it: its Provenance is there and was recorded at this acceptance's time. The
 * attempt then failed after the commit (the answer was lost, a follow-up step failed, the process
 * died), and its retry must not write again: a newer record may have changed the same resources
 * since, and writing this one again would put its older content back. The same record sent again
 * later is a new acceptance (another time) and is written.
 */
async function earlierWrite(
  fhir: FhirGateway,
  mapped: MappedRecord,
  source: SourceRecord,
  patient: string,
  provenance: Provenance,
): Promise<WriteOutcome | undefined> {
  if (Date.parse(provenance.recorded) !== Date.parse(source.receivedAt)) {
    return undefined;
  }
  // The transaction gave every resource it wrote the Provenance's time: that is the version each
  // got. A write with no such version was left as it was: unchanged, or older than what the server
  // held (then, as on the first attempt, what it said happened is not news).
  const committedAt = Date.parse(provenance.meta?.lastUpdated ?? '');
  const written: Record<string, string> = {};
  const versions: Record<string, string> = {};
  const stale = new Set<string>();
  for (const w of mapped.writes) {
    const [current] = await fhir.search<FhirResource>(w.resource.resourceType, {
      identifier: `${w.identifier.system}|${w.identifier.value}`,
    });
    if (!current?.id) {
      stale.add(w.fullUrl);
      continue;
    }
    const reference = `${current.resourceType}/${current.id}`;
    written[w.fullUrl] = reference;
    const version = await versionWrittenAt(fhir, current.resourceType, current.id, committedAt);
    if (version) {
      versions[reference] = version;
    } else if (holdsLaterState(current, w)) {
      stale.add(w.fullUrl);
    } else if (isOrdered(w)) {
      // Not written, yet not older than what the server holds: its create lost a race to another
      // record's (README, "Order of inbound records"). Write the record again; its order keys
      // keep that safe.
      return undefined;
    }
  }
  const outdated = mapped.orderedAsOne === true && stale.size > 0;
  const events = eventsOf(mapped, written, stale, outdated);
  return { patient, written, versions, provenance: `Provenance/${provenance.id}`, events };
}

/**
 * The version of a resource written at `at`, walking back from the current one with reads by
 * version (a server may answer `_history` from a cached count); '' when none was written then.
 */
async function versionWrittenAt(fhir: FhirGateway, type: string, id: string, at: number): Promise<string> {
  const current = await fhir.read(type, id);
  for (let v = Number(current.meta?.versionId ?? 0), steps = 0; v >= 1 && steps < 50; v--, steps++) {
    const version = v === Number(current.meta?.versionId) ? current : await fhir.vread(type, id, String(v));
    const updated = Date.parse(version.meta?.lastUpdated ?? '');
    if (updated === at) {
      return String(v);
    }
    if (updated < at) {
      break;
    }
  }
  return '';
}

/** One Provenance per applied source record (see {@link provenanceId}). */
function provenanceFor(
  source: SourceRecord,
  identifierBase: string,
  entries: readonly BundleEntry[],
  id: string,
): Provenance {
  return {
    resourceType: 'Provenance',
    id,
    target: entries.map((e) => ({ reference: e.fullUrl ?? e.request!.url })),
    recorded: source.receivedAt,
    // The mapping the record went through, so a write can be traced to the partner file that made it.
    ...(source.mappingVersion
      ? { policy: [`${identifierBase}/mapping/${source.partnerId}/${source.mappingVersion}`] }
      : {}),
    activity: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
          code: 'UPDATE',
          display: 'revise',
        },
      ],
    },
    agent: [
      {
        type: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' },
          ],
        },
        who: { reference: `Organization/${source.partnerId}` },
      },
    ],
    entity: [
      {
        role: 'source',
        what: {
          identifier: {
            system: `${identifierBase}/sid/${source.partnerId}/${source.format}`,
            value: source.sourceId,
          },
          display: `${source.format} ${source.location}`,
        },
      },
    ],
  };
}

/** Replaces every `reference` equal to `from` with `to`, deep. */
function replaceReference<T extends Resource>(resource: T, from: string, to: string): T {
  return replaceReferences(resource, { [from]: to });
}

function replaceReferences<T>(value: T, map: Readonly<Record<string, string>>): T {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' && v in map ? map[v] : v)),
  ) as T;
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
