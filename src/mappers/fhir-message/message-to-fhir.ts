import type {
  CarePlanActivity,
  CarePlanActivityDetail,
  FhirResource,
  Identifier,
  Meta,
  Patient,
  Reference,
  ServiceRequest,
} from 'fhir/r4.js';
import type {
  FhirEntry,
  FhirMessageRecord,
  JsonResource,
  OutsideTarget,
} from '../../adapters/fhir-message/types.js';
import { PROFILE } from '../../fhir/profiles.js';
import { mapReferences, relativeReference } from '../../fhir/references.js';
import { fullUrlFor, partnerRef, sourceIdentifier } from '../support.js';
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
export function fhirMessageToMapped(msg: FhirMessageRecord, ctx: MappingContext): MappedRecord {
  const entries = identified(msg, ctx);
  const patient = entries.find((e) => e.resource.resourceType === 'Patient')?.resource as Patient | undefined;
  const others = entries.filter((e) => e.resource.resourceType !== 'Patient');

  const targets: Record<string, string> = {};
  for (const e of entries) {
    for (const key of keysOf(e)) {
      targets[key] = writtenAs(e.resource);
    }
  }
  if (!patient && msg.participant) {
    targets[msg.participant] = PARTICIPANT_REF;
  }
  const references = referenceMapper(targets, msg.outside ?? {}, ctx);

  const pointed = others.map((e) => ({ entry: e, resource: references(e.resource) }));
  // A plan's services as the sender sent them, by the hub fullUrl its activities now point at.
  const services = new Map(
    pointed
      .filter((p) => p.resource.resourceType === 'ServiceRequest')
      .map((p) => [fullUrlFor(firstIdentifier(p.entry.resource)), p.resource as unknown as ServiceRequest]),
  );
  const writes: ResourceWrite[] = pointed.map(({ entry: e, resource: pointedResource }) => {
    const identifier = firstIdentifier(e.resource);
    const { id: _id, meta: sentMeta, ...rest } = pointedResource;
    const { meta, baseVersion } = baseVersionOf(e.resource.resourceType, sentMeta as Meta | undefined);
    const profile = PROFILES[e.resource.resourceType];
    const resource = ownedBySender(
      {
        ...rest,
        ...(profile || meta ? { meta: { ...meta, ...(profile ? { profile: [profile] } : {}) } } : {}),
      } as unknown as FhirResource,
      ctx,
      services,
    );
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
  const {
    id: _pid,
    meta: _pmeta,
    ...demographics
  } = patient
    ? references(patient as unknown as JsonResource)
    : ({ resourceType: 'Patient' } as JsonResource);
  const referenced = !patient && msg.participant ? logicalIdentifier(msg.participant, ctx) : undefined;
  return {
    participant: {
      identifiers: referenced ? [referenced] : (patient?.identifier ?? []).filter((i) => i.system && i.value),
      demographics: demographics as unknown as Patient,
    },
    writes,
    events,
    sendersReferences: true,
  };
}

/**
 * Where each entry of the sender's Bundle is written, by its index: the fullUrl of its write, or
 * the participant for the Patient. The answer to a transaction or batch names each entry's result.
 */
export function entryFullUrls(msg: FhirMessageRecord, ctx: MappingContext): Readonly<Record<number, string>> {
  const located: Record<number, string> = {};
  for (const e of identified(msg, ctx)) {
    if (e.index !== undefined) {
      located[e.index] = writtenAs(e.resource);
    }
  }
  return located;
}

/**
 * Every entry under the identifier it is written on: its own, or the sender's logical id scoped
 * to the sender (README, "FHIR transactions and batches").
 */
function identified(msg: FhirMessageRecord, ctx: MappingContext): FhirEntry[] {
  return msg.entries.map((e) => ({ ...e, resource: withIdentity(e.resource, e.identity, ctx) }));
}

/** The write an identified entry becomes: the participant, or the fullUrl of its identifier. */
function writtenAs(resource: JsonResource): string {
  return resource.resourceType === 'Patient' ? PARTICIPANT_REF : fullUrlFor(firstIdentifier(resource));
}

/** The resource with the identity it is written on: the sender's id as a sender-scoped identifier. */
function withIdentity(
  resource: JsonResource,
  identity: string | undefined,
  ctx: MappingContext,
): JsonResource {
  if (!identity || (resource.identifier ?? []).some((i) => i.system && i.value)) {
    return resource;
  }
  return {
    ...resource,
    identifier: [sourceIdentifier(ctx, resource.resourceType, identity), ...(resource.identifier ?? [])],
  };
}

/** The keys by which other entries may point at an entry: fullUrl, `Type/id`, conditional URL. */
function keysOf(e: FhirEntry): string[] {
  const type = e.resource.resourceType;
  const first = (e.resource.identifier ?? []).find((i) => i.system && i.value);
  return [
    e.fullUrl,
    e.fullUrl?.toLowerCase(),
    e.resource.id ? `${type}/${e.resource.id}` : undefined,
    e.identity ? `${type}/${e.identity}` : undefined,
    ...(first
      ? [
          `${type}?identifier=${first.system}|${first.value}`,
          `${type}?identifier=${encodeURIComponent(`${first.system}|${first.value}`)}`,
        ]
      : []),
  ].filter((k): k is string => Boolean(k));
}

/**
 * Re-points every Reference: to an entry of the record, at its hub fullUrl; to an entry the hub
 * skipped, a conditional reference or an unknown `urn:uuid`, as a logical reference by
 * identifier, since the shared server holds no such resource to point at. Relative references
 * (`Type/id`) and contained (`#`) ones stay: the writer checks the relative ones against the server.
 */
function referenceMapper(
  targets: Readonly<Record<string, string>>,
  outside: Readonly<Record<string, OutsideTarget>>,
  ctx: MappingContext,
): (resource: JsonResource) => JsonResource {
  const map = (ref: Reference): Reference => {
    const value = ref.reference;
    if (value === undefined || value.startsWith('#')) {
      return ref;
    }
    const target = targets[value] ?? targets[value.toLowerCase()];
    if (target) {
      return { ...ref, reference: target };
    }
    const known = outside[value] ?? outside[value.toLowerCase()];
    if (!known && relativeReference(value)) {
      return ref; // relative: the writer keeps it if the shared server holds it (ingest/ground-references.ts)
    }
    const { reference: _dropped, ...rest } = ref;
    const identifier = known
      ? (known.identifier ??
        (known.identity ? sourceIdentifier(ctx, known.resourceType, known.identity) : undefined))
      : logicalIdentifier(value, ctx);
    const type = known?.resourceType ?? /^([A-Z][A-Za-z]+)[/?]/.exec(value)?.[1];
    return {
      ...rest,
      ...(type && !rest.type ? { type } : {}),
      ...(identifier && !rest.identifier ? { identifier } : {}),
      ...(!identifier && !rest.display ? { display: value } : {}),
    };
  };
  return (resource) => mapReferences(resource, map);
}

/** The identifier a relative (`Type/id`) or conditional (`Type?identifier=s|v`) reference names. */
function logicalIdentifier(reference: string, ctx: MappingContext): Identifier | undefined {
  const relative = relativeReference(reference);
  if (relative) {
    return sourceIdentifier(ctx, relative.type, relative.id);
  }
  const conditional = /^[A-Z][A-Za-z]+\?identifier=([^&|]+)\|([^&]+)$/.exec(reference);
  return conditional
    ? { system: decodeURIComponent(conditional[1]!), value: decodeURIComponent(conditional[2]!) }
    : undefined;
}

/**
 * A CarePlan the sender did not say the owner of is the sender's: its author, and the performer
 * of each activity that names none (the shared plan's profile requires both). An activity that
 * only points at a service (an eLTSS plan's ServiceRequest) is described by that service.
 */
function ownedBySender(
  resource: FhirResource,
  ctx: MappingContext,
  services: ReadonlyMap<string, ServiceRequest>,
): FhirResource {
  if (resource.resourceType !== 'CarePlan') {
    return resource;
  }
  return {
    ...resource,
    ...(resource.author ? {} : { author: partnerRef(ctx) }),
    ...(resource.activity
      ? {
          activity: resource.activity
            .map((a) => (a.detail || !a.reference ? a : serviceActivity(a, services)))
            .map((a) =>
              a.detail && !a.detail.performer?.length
                ? { ...a, detail: { ...a.detail, performer: [partnerRef(ctx)] } }
                : a,
            ),
        }
      : {}),
  };
}

/** ServiceRequest status as the status of the plan activity it is (README, "FHIR transactions and batches", eLTSS plans). */
const ACTIVITY_STATUS: Readonly<Record<string, CarePlanActivityDetail['status']>> = {
  draft: 'not-started',
  active: 'scheduled',
  'on-hold': 'on-hold',
  revoked: 'cancelled',
  completed: 'completed',
  'entered-in-error': 'entered-in-error',
  unknown: 'unknown',
};

/**
 * An activity that points at a service, as the activity detail the shared plan requires: what the
 * service is, who performs it, when, and how much. R4 allows a reference or a detail, not both
 * (cpl-3), so the detail takes the reference's place; the ServiceRequest itself is written too.
 */
function serviceActivity(
  activity: CarePlanActivity,
  services: ReadonlyMap<string, ServiceRequest>,
): CarePlanActivity {
  const { reference, ...rest } = activity;
  const service = reference?.reference ? services.get(reference.reference) : undefined;
  const named = reference?.display ?? reference?.reference ?? reference?.identifier?.value ?? 'a service';
  if (!service) {
    return {
      ...rest,
      detail: {
        kind: 'ServiceRequest',
        status: 'unknown',
        description: `Service ${named}, not sent with the plan`,
      },
    };
  }
  const quantity = service.quantityQuantity;
  const description = [
    service.code?.text ?? service.code?.coding?.[0]?.display ?? named,
    ...(quantity?.value !== undefined
      ? [`${quantity.value} ${quantity.unit ?? quantity.code ?? ''}`.trim()]
      : []),
  ].join(', ');
  return {
    ...rest,
    detail: {
      kind: 'ServiceRequest',
      ...(service.code ? { code: service.code } : {}),
      status: ACTIVITY_STATUS[service.status] ?? 'unknown',
      ...(service.occurrencePeriod ? { scheduledPeriod: service.occurrencePeriod } : {}),
      ...(service.occurrenceTiming ? { scheduledTiming: service.occurrenceTiming } : {}),
      ...(service.performer?.length ? { performer: service.performer } : {}),
      ...(service.locationReference?.[0] ? { location: service.locationReference[0] } : {}),
      description,
    },
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
