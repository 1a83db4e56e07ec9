import type { BundleEntry, DomainResource, Extension, FhirResource } from 'fhir/r4.js';
import { tokenOf } from '../fhir/hub-identifiers.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { EXTENSION } from '../fhir/profiles.js';
import type { ResourceWrite } from '../mappers/types.js';

/** What to do with one write whose source says when its state was true. */
export type TimedWrite =
  | { readonly kind: 'write'; readonly entry: BundleEntry }
  /** The server already holds a newer state of this resource: leave it as it is. */
  | { readonly kind: 'stale'; readonly reference: string; readonly version: string };

/**
 * Source order for one write (README, "Order of inbound records"): the resource on the server
 * carries the source time of the state it holds; a write whose source time is older is stale and
 * left out (an A01 retried after the A03 of the same visit, v2 of a plan replayed after v3). A
 * newer or equal one is written with If-Match on the version read, so a concurrent writer makes
 * it conflict and the writer reads again. Writes without a source time are last-writer-wins, as
 * before, and the source-time extension a partner may have put on a resource is never trusted.
 */
export async function timedEntry(
  fhir: FhirGateway,
  write: ResourceWrite,
  resource: FhirResource,
  receivedAt: string,
): Promise<TimedWrite | undefined> {
  const own = withoutSourceTime(resource);
  if (!write.sourceTime || !believable(write.sourceTime, receivedAt)) {
    return own === resource ? undefined : { kind: 'write', entry: conditionalPut(write, own) };
  }
  const stamped = {
    ...own,
    extension: [...((own as DomainResource).extension ?? []), sourceTimeOf(write.sourceTime)],
  };
  const [current, more] = await fhir.search<FhirResource>(write.resource.resourceType, {
    identifier: `${write.identifier.system}|${write.identifier.value}`,
  });
  if (!current?.id || more) {
    return { kind: 'write', entry: conditionalPut(write, stamped) };
  }
  const held = heldSourceTime(current);
  if (held !== undefined && held > Date.parse(write.sourceTime)) {
    return {
      kind: 'stale',
      reference: `${current.resourceType}/${current.id}`,
      version: current.meta?.versionId ?? '',
    };
  }
  return {
    kind: 'write',
    entry: {
      fullUrl: write.fullUrl,
      resource: { ...stamped, id: current.id },
      request: {
        method: 'PUT',
        url: `${current.resourceType}/${current.id}`,
        ...(current.meta?.versionId ? { ifMatch: `W/"${current.meta.versionId}"` } : {}),
      },
    },
  };
}

/** How far ahead of its arrival a source may date a record: clocks drift, but not by days. */
const MAX_FUTURE_MS = 24 * 3600_000;

/**
 * A source time far in the future (a wrong clock, a typo) would freeze the resource against every
 * later record: it is not used, and the write is last-writer-wins.
 */
function believable(sourceTime: string, receivedAt: string): boolean {
  return Date.parse(sourceTime) <= Date.parse(receivedAt) + MAX_FUTURE_MS;
}

function conditionalPut(write: ResourceWrite, resource: FhirResource): BundleEntry {
  return {
    fullUrl: write.fullUrl,
    resource,
    request: { method: 'PUT', url: `${write.resource.resourceType}?identifier=${tokenOf(write.identifier)}` },
  };
}

function sourceTimeOf(at: string): Extension {
  return { url: EXTENSION.sourceTime, valueDateTime: at };
}

function heldSourceTime(resource: FhirResource): number | undefined {
  const value = (resource as DomainResource).extension?.find(
    (e) => e.url === EXTENSION.sourceTime,
  )?.valueDateTime;
  const at = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

function withoutSourceTime(resource: FhirResource): FhirResource {
  const extension = (resource as DomainResource).extension;
  if (!extension?.some((e) => e.url === EXTENSION.sourceTime)) {
    return resource;
  }
  const rest = extension.filter((e) => e.url !== EXTENSION.sourceTime);
  const { extension: _dropped, ...others } = resource as DomainResource;
  return (rest.length > 0 ? { ...others, extension: rest } : others) as FhirResource;
}
