import { createHash } from 'node:crypto';
import type { PartnerConfig } from '../../config/partners.js';
import {
  entryKeys,
  splitCoordinated,
  type CoordinationPolicy,
  type KeyedEntry,
} from '../fhir-message/coordinated.js';
import { relativeReference } from '../../fhir/references.js';
import { readFhirDocument } from '../../fhir/fhir-xml.js';
import type { FhirEntry, FhirMessageRecord, JsonResource, OutsideTarget } from '../fhir-message/types.js';
import type { FieldIssue, ParseResult, RejectedRecord } from '../types.js';

/** `identifier=system|value` in a conditional URL or `ifNoneExist` (system possibly empty). */
const IDENTIFIER_CONDITION = /(?:^|[?&])identifier=([^&|]*)\|([^&]+)/;
/** `urn:uuid:<uuid>`, any case. */
const URN_UUID = /^urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** The logical id at the end of an absolute fullUrl on the sender's server (`.../Patient/a2`). */
const SERVER_URL = /^https?:\/\/[^?#]+\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
/** Elements by which a resource says whose it is. */
const PARTICIPANT_ELEMENTS = ['subject', 'patient', 'for', 'beneficiary'] as const;

/** One entry as read: what it writes, under which identity, and about whom. */
interface ReadEntry extends KeyedEntry {
  readonly fullUrl?: string;
}

/**
 * Reads a FHIR `transaction` or `batch` Bundle, or a single resource, as the FHIR specification
 * defines them (README, "FHIR transactions and batches"):
 * - identity: a resource's own identifier; else the identifier its conditional URL or
 *   `ifNoneExist` names; else the sender's logical id (`PUT Type/id`, a `urn:uuid` fullUrl, the
 *   id of a lone resource), which the mapper scopes to the sender, so a resend is an update and two
 *   partners' `Patient/123` never meet. A `POST` with none of these has no stable identity and is
 *   refused;
 * - a transaction is one record, all or nothing; a batch (or a lone resource) is one record per
 *   participant, and a bad entry is refused alone;
 * - a collection or document (an eLTSS plan, an export) carries no requests: each entry is read as
 *   the `PUT` of its own id; about one participant it is one record, like a transaction, about
 *   several it is read per participant, like a batch;
 * - JSON or XML, told apart by the first character;
 * - resources the hub does not coordinate (Claim, Immunization, Practitioner, ...) are skipped, each
 *   reported, or stored as sent when the sender's file says `uncoordinated: store`; references to
 *   skipped ones, and to anything outside the bundle, stay as logical references.
 * Reads and deletes are refused: partners retire shared records by status.
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export function parseFhirTransaction(body: Buffer, partner?: PartnerConfig): ParseResult<FhirMessageRecord> {
  const policy: CoordinationPolicy = {
    storesUncoordinated: partner?.inbound.uncoordinated === 'store',
    keepHubOwned: false,
  };
  const raw = body.toString('utf8').replace(/^\uFEFF/, '');
  const read = readFhirDocument(body);
  if ('issues' in read) {
    return rejectAll('transaction', read.issues, raw);
  }
  const parsed = read.resource;
  if (parsed.resourceType !== 'Bundle') {
    return typeof parsed?.resourceType === 'string'
      ? readBatch(
          policy,
          loneResource(parsed as JsonResource),
          `${parsed.resourceType} ${typeof parsed.id === 'string' ? parsed.id : ''}`.trim(),
        )
      : rejectAll('transaction', [{ field: 'resourceType', message: 'is not a FHIR resource' }], raw);
  }
  const type = typeof parsed.type === 'string' ? parsed.type : '';
  if (!READ_TYPES.includes(type)) {
    return rejectAll(
      'transaction',
      [{ field: 'Bundle.type', message: `must be one of ${READ_TYPES.join(', ')}` }],
      raw,
    );
  }
  const identifier = parsed.identifier as { value?: string } | undefined;
  const sourceId =
    identifier?.value ??
    (typeof parsed.id === 'string' ? parsed.id : createHash('sha256').update(raw).digest('hex').slice(0, 32));
  const given = Array.isArray(parsed.entry) ? (parsed.entry as Array<Record<string, unknown>>) : [];
  const snapshot = type === 'collection' || type === 'document';
  const list = snapshot ? given.map(asRequest) : given;
  if (list.length === 0) {
    return rejectAll(
      `${type} ${sourceId}`,
      [{ field: 'Bundle.entry', message: 'the Bundle holds no entry' }],
      raw,
    );
  }
  if (type === 'transaction' || (snapshot && patientsIn(list) <= 1)) {
    return readTransaction(policy, list, sourceId, raw, snapshot ? `${type} ${sourceId}` : undefined);
  }
  return readBatch(policy, list, `${type} ${sourceId}`);
}

/** Bundle types read: requests (transaction, batch) and sets of resources as the sender holds them. */
const READ_TYPES: readonly string[] = ['transaction', 'batch', 'collection', 'document'];

function loneResource(resource: JsonResource): Array<Record<string, unknown>> {
  return [asRequest({ resource })];
}

/** An entry without a request, as the request that stores it: `PUT` of its own id, else `POST`. */
function asRequest(entry: Record<string, unknown>): Record<string, unknown> {
  const resource = entry.resource as JsonResource | undefined;
  if (!resource || typeof resource.resourceType !== 'string') {
    return entry;
  }
  const request = resource.id
    ? { method: 'PUT', url: `${resource.resourceType}/${resource.id}` }
    : { method: 'POST', url: resource.resourceType };
  return { ...entry, request };
}

function patientsIn(list: ReadonlyArray<Record<string, unknown>>): number {
  return list.filter((e) => (e.resource as JsonResource | undefined)?.resourceType === 'Patient').length;
}

/**
 * A transaction: every entry is written together or none is. A collection or document about one
 * participant is read the same way (`location` names it), as a whole.
 */
function readTransaction(
  policy: CoordinationPolicy,
  list: Array<Record<string, unknown>>,
  sourceId: string,
  raw: string,
  location = `transaction ${sourceId}`,
): ParseResult<FhirMessageRecord> {
  const issues: FieldIssue[] = [];
  const read = list.flatMap((entry, index) => {
    const result = readEntry(entry, index);
    if ('issue' in result) {
      issues.push(result.issue);
      return [];
    }
    return [result];
  });
  const { kept, skipped, outside } = splitCoordinated(read, location, policy);
  const patients = kept.filter((e) => e.resource.resourceType === 'Patient');
  if (patients.length > 1) {
    issues.push({
      field: `Bundle.entry[${patients[1]!.index}].resource`,
      message:
        'a transaction is about one participant: a second Patient is not accepted (send one per person)',
    });
  }
  const participant = patients[0] ? undefined : participantReference(kept);
  if (issues.length === 0 && !patients[0] && !participant && kept.length > 0) {
    issues.push({
      field: 'Bundle.entry',
      message:
        'the transaction names no participant: carry the Patient, or refer to one (subject, patient, for)',
    });
  }
  if (issues.length > 0) {
    return { accepted: [], rejected: [{ location, sourceId, issues, raw }], skipped };
  }
  return {
    accepted:
      kept.length === 0
        ? []
        : [
            {
              location,
              sourceId,
              record: record(sourceId, kept, outside, participant),
              entries: kept.map((e) => e.index),
            },
          ],
    rejected: [],
    skipped,
  };
}

/** A batch: each entry stands alone; entries about one participant are applied as one record. */
function readBatch(
  policy: CoordinationPolicy,
  list: Array<Record<string, unknown>>,
  location: string,
): ParseResult<FhirMessageRecord> {
  const rejected: RejectedRecord[] = [];
  const read = list.flatMap((entry, index) => {
    const result = readEntry(entry, index);
    if ('issue' in result) {
      rejected.push({
        location: `${location} entry ${index}`,
        issues: [result.issue],
        raw: JSON.stringify(entry),
        entries: [index],
      });
      return [];
    }
    return [result];
  });
  const { kept, skipped, outside } = splitCoordinated(read, location, policy);
  // Each participant's entries: its Patient entry and what refers to it (by key or `Patient/id`).
  const groups = new Map<string, ReadEntry[]>();
  for (const e of kept) {
    const key = e.resource.resourceType === 'Patient' ? e.keys[0]! : participantOf(e, kept);
    if (!key) {
      rejected.push({
        location: `${location} entry ${e.index}`,
        issues: [
          {
            field: `Bundle.entry[${e.index}].resource`,
            message: `${e.resource.resourceType} names no participant (subject, patient, for): the hub cannot place it`,
          },
        ],
        raw: JSON.stringify(e.resource),
        entries: [e.index],
      });
      continue;
    }
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const accepted = [...groups.values()].map((entries) => {
    const first = entries[0]!;
    const sourceId = `${first.resource.resourceType}/${first.identity ?? first.resource.id ?? first.index}`;
    const hasPatient = entries.some((e) => e.resource.resourceType === 'Patient');
    return {
      location: `${location} entry ${entries.map((e) => e.index).join(', ')}`,
      sourceId,
      record: record(sourceId, entries, outside, hasPatient ? undefined : participantReference(entries)),
      entries: entries.map((e) => e.index),
    };
  });
  return { accepted, rejected, skipped };
}

function record(
  sourceId: string,
  entries: readonly ReadEntry[],
  outside: Readonly<Record<string, OutsideTarget>>,
  participant: string | undefined,
): FhirMessageRecord {
  return {
    messageId: sourceId,
    // A transaction or batch announces no event: it is read like a message that updates records.
    event: 'careplan-update',
    entries: entries.map((e): FhirEntry => ({
      ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}),
      resource: e.resource,
      ...(e.identity ? { identity: e.identity } : {}),
      index: e.index,
    })),
    ...(Object.keys(outside).length > 0 ? { outside } : {}),
    ...(participant ? { participant } : {}),
  };
}

/** Checks one entry's request and finds its identity. */
function readEntry(entry: Record<string, unknown>, index: number): ReadEntry | { issue: FieldIssue } {
  const where = `Bundle.entry[${index}]`;
  const request = entry.request as { method?: string; url?: string; ifNoneExist?: string } | undefined;
  const resource = entry.resource as JsonResource | undefined;
  if (request?.method !== 'POST' && request?.method !== 'PUT') {
    return {
      issue: {
        field: `${where}.request.method`,
        message: `${request?.method ?? '(none)'} is not accepted: send POST or PUT (retire records by status, not DELETE)`,
      },
    };
  }
  if (!resource || typeof resource.resourceType !== 'string') {
    return { issue: { field: `${where}.resource`, message: 'is missing or has no resourceType' } };
  }
  const url = request.url ?? '';
  if (!url.startsWith(resource.resourceType)) {
    return { issue: { field: `${where}.request.url`, message: `must address ${resource.resourceType}` } };
  }
  const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
  const keys: Array<string | undefined> = entryKeys(fullUrl, resource);
  const emptySystem = (resource.identifier ?? []).find((i) => i.value && i.system === '');
  if (emptySystem) {
    return {
      issue: {
        field: `${where}.resource.identifier.system`,
        message: 'is empty: an identifier needs its system (or none at all)',
      },
    };
  }
  const own = (resource.identifier ?? []).some((i) => i.system && i.value);
  // A conditional URL is also how other entries may point at this one (`Patient?identifier=...`).
  const conditionKey = IDENTIFIER_CONDITION.test(url)
    ? url
    : request.ifNoneExist
      ? `${resource.resourceType}?${request.ifNoneExist}`
      : '';
  const condition = IDENTIFIER_CONDITION.exec(conditionKey);
  if (condition) {
    const system = decodeURIComponent(condition[1]!);
    if (!system) {
      return {
        issue: {
          field: `${where}.request.${IDENTIFIER_CONDITION.test(url) ? 'url' : 'ifNoneExist'}`,
          message: 'names an identifier without a system, which matches nothing reliably',
        },
      };
    }
    keys.push(conditionKey);
    const withIdentifier = own
      ? resource
      : { ...resource, identifier: [{ system, value: decodeURIComponent(condition[2]!) }] };
    return { index, ...(fullUrl ? { fullUrl } : {}), resource: withIdentifier, keys: defined(keys) };
  }
  if (own) {
    return { index, ...(fullUrl ? { fullUrl } : {}), resource, keys: defined(keys) };
  }
  const put = request.method === 'PUT' ? relativeReference(url) : undefined;
  const putId = put?.type === resource.resourceType ? put.id : undefined;
  const uuid = URN_UUID.exec(fullUrl ?? '')?.[1]?.toLowerCase();
  const onServer = SERVER_URL.exec(fullUrl ?? '');
  const serverId = onServer?.[1] === resource.resourceType ? onServer[2] : undefined;
  const identity = putId ?? uuid ?? serverId;
  if (!identity) {
    return {
      issue: {
        field: `${where}.resource.identifier`,
        message: `${resource.resourceType} has no identity that survives a resend: give it an identifier, a conditional URL, PUT ${resource.resourceType}/<id>, or a urn:uuid or server fullUrl`,
      },
    };
  }
  if (putId) {
    keys.push(`${resource.resourceType}/${putId}`);
  }
  return { index, ...(fullUrl ? { fullUrl } : {}), resource, identity, keys: defined(keys) };
}

/** The participant an entry refers to: a Patient entry's first key, or `Patient/<id>` outside. */
function participantOf(e: ReadEntry, entries: readonly ReadEntry[]): string | undefined {
  for (const element of PARTICIPANT_ELEMENTS) {
    const ref = (e.resource[element] as { reference?: string } | undefined)?.reference;
    if (!ref) {
      continue;
    }
    const target = entries.find((t) => t.resource.resourceType === 'Patient' && t.keys.includes(ref));
    if (target) {
      return target.keys[0];
    }
    if (relativeReference(ref)?.type === 'Patient') {
      return ref;
    }
  }
  return undefined;
}

/** `Patient/<id>` the entries refer to when they carry no Patient of their own. */
function participantReference(entries: readonly ReadEntry[]): string | undefined {
  for (const e of entries) {
    const ref = participantOf(e, []);
    if (ref) {
      return ref;
    }
  }
  return undefined;
}

function defined(keys: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(keys.filter((k): k is string => Boolean(k)))];
}

function rejectAll(location: string, issues: FieldIssue[], raw: string): ParseResult<FhirMessageRecord> {
  return { accepted: [], rejected: [{ location, issues, raw }] };
}
