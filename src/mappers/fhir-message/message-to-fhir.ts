import type { FhirResource, Identifier, Meta, Patient } from 'fhir/r4.js';
import type { FhirMessageRecord, JsonResource } from '../../adapters/fhir-message/parse-message.js';
import { PROFILE } from '../../fhir/profiles.js';
import { fullUrlFor } from '../support.js';
import type { HubEvent, MappedRecord, MappingContext, ResourceWrite } from '../types.js';
import { PARTICIPANT_REF } from '../types.js';

/** Hub profiles that resources arriving by message must meet (the FHIR server enforces them). */
const PROFILES: Readonly<Record<string, string>> = { CarePlan: PROFILE.carePlan, Task: PROFILE.task };

/**
 * Maps a partner's FHIR message to hub writes. The resources are FHIR already: the mapper links
 * the Patient by its identifiers, re-points references between entries at the hub's own
 * (identifier-derived) fullUrls, drops the partner's server ids, and declares the hub profiles so
 * the server refuses a CarePlan without owners or a Task without an owner and due time. A CarePlan
 * with `meta.versionId` is an edit of that hub version: it is written as the write's `baseVersion`.
 * Any other resource's `meta.lastUpdated` (when the sender's system last changed it) is its source
 * time: an older state delivered late does not overwrite a newer one.
 */
export function fhirMessageToMapped(msg: FhirMessageRecord, _ctx: MappingContext): MappedRecord {
  const patient = msg.entries.find((e) => e.resource.resourceType === 'Patient')?.resource as
    Patient | undefined;
  const others = msg.entries.filter((e) => e.resource.resourceType !== 'Patient');

  const targets: Record<string, string> = {};
  for (const e of msg.entries) {
    const target =
      e.resource.resourceType === 'Patient' ? PARTICIPANT_REF : fullUrlFor(firstIdentifier(e.resource));
    for (const key of [
      e.fullUrl,
      e.resource.id ? `${e.resource.resourceType}/${e.resource.id}` : undefined,
    ]) {
      if (key) {
        targets[key] = target;
      }
    }
  }

  const writes: ResourceWrite[] = others.map((e) => {
    const identifier = firstIdentifier(e.resource);
    const { id: _id, meta: sentMeta, ...rest } = repoint(e.resource, targets);
    const { meta, baseVersion } = baseVersionOf(e.resource.resourceType, sentMeta as Meta | undefined);
    const profile = PROFILES[e.resource.resourceType];
    const resource = {
      ...rest,
      ...(profile || meta ? { meta: { ...meta, ...(profile ? { profile: [profile] } : {}) } } : {}),
    } as unknown as FhirResource;
    const sourceTime = baseVersion ? undefined : instantOf((sentMeta as Meta | undefined)?.lastUpdated);
    return {
      fullUrl: fullUrlFor(identifier),
      identifier,
      resource,
      ...(baseVersion ? { baseVersion } : {}),
      ...(sourceTime ? { sourceTime } : {}),
    };
  });

  const events: HubEvent[] = writes.flatMap((w) => eventsFor(msg.event, w));
  const { id: _pid, meta: _pmeta, ...demographics } = patient ?? { resourceType: 'Patient' as const };
  return {
    participant: {
      identifiers: (patient?.identifier ?? []).filter((i) => i.system && i.value),
      demographics: demographics,
    },
    writes,
    events,
  };
}

/**
 * A partner that edits the shared CarePlan states the hub version it started from in
 * `meta.versionId` (as it read it from the hub or received it in a plan change). That becomes the
 * write's `baseVersion`, so a concurrent edit by another agency is merged or refused, never lost;
 * the hub's own bookkeeping (`versionId`, `lastUpdated`) is not written back.
 */
function baseVersionOf(
  resourceType: string,
  meta: Meta | undefined,
): { meta: Meta | undefined; baseVersion: string | undefined } {
  if (resourceType !== 'CarePlan' || !meta?.versionId) {
    return { meta, baseVersion: undefined };
  }
  const { versionId, lastUpdated: _lastUpdated, ...rest } = meta;
  return { meta: rest, baseVersion: versionId };
}

function eventsFor(event: FhirMessageRecord['event'], w: ResourceWrite): HubEvent[] {
  if (w.resource.resourceType !== 'Encounter') {
    return [];
  }
  const enc = w.resource;
  if (event === 'encounter-discharge') {
    const at = enc.period?.end ?? enc.period?.start;
    return at ? [{ type: 'discharge', at, encounter: w.fullUrl }] : [];
  }
  if (event === 'encounter-admit' && enc.period?.start) {
    return [{ type: 'admission', at: enc.period.start, encounter: w.fullUrl }];
  }
  return [];
}

/** A FHIR instant as the sender gave it, if it is one (with a zone, so it compares). */
function instantOf(value: unknown): string | undefined {
  return typeof value === 'string' && /(?:Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))
    ? value
    : undefined;
}

function firstIdentifier(resource: JsonResource): Identifier {
  const found = (resource.identifier ?? []).find((i) => i.system && i.value)!;
  return { system: found.system, value: found.value };
}

/** Deep copy with every `reference` that names another entry pointed at that entry's hub fullUrl. */
function repoint(resource: JsonResource, targets: Readonly<Record<string, string>>): JsonResource {
  return JSON.parse(
    JSON.stringify(resource, (key, value: unknown) =>
      key === 'reference' && typeof value === 'string' && value in targets ? targets[value] : value,
    ),
  ) as JsonResource;
}
