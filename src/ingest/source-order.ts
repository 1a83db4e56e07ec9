import type { BundleEntry, DomainResource, Extension, FhirResource } from 'fhir/r4.js';
import { tokenOf } from '../fhir/hub-identifiers.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { EXTENSION } from '../fhir/profiles.js';
import type { ResourceWrite } from '../mappers/types.js';

/** What to do with one write, from what the server holds under its identifier. */
export type OrderedWrite =
  /**
   * `createOnly`: nothing was held when the write was planned; the entry creates the resource only
   * if that is still so, and the writer treats an existing match in the answer as a conflict.
   */
  | { readonly kind: 'write'; readonly entry: BundleEntry; readonly createOnly?: boolean }
  /** The server already holds a newer state of this resource: leave it as it is. */
  | { readonly kind: 'stale'; readonly reference: string; readonly version: string };

/**
 * Source order for one write (README, "Order of inbound records"): the resource on the server
 * carries the source time and version of the state it holds; a write older by either is stale and
 * left out (an A01 retried after the A03 of the same visit, version 2 of a plan replayed after
 * version 3). Every other write is planned from what the server holds under its identifier: a new
 * identifier is created only if it is still new (a conditional create, which HAPI lets only one of
 * two writers at once make; a conditional update can make two), a held one is written over with
 * If-Match on the version read, so a concurrent writer makes it conflict and the writer reads again.
 * Writes without a source time or version are last-writer-wins, and the order extensions a partner
 * may have put on a resource are never trusted.
 */
export async function orderedEntry(
  held: HeldLookup,
  write: ResourceWrite,
  resource: FhirResource,
  receivedAt: string,
): Promise<OrderedWrite> {
  const own = withoutSourceOrder(resource);
  const order = orderOf(write, receivedAt);
  const stamped =
    order.length === 0
      ? own
      : ({ ...own, extension: [...((own as DomainResource).extension ?? []), ...order] } as FhirResource);
  const [current, more] = await held(write);
  if (more) {
    // Two resources under one identifier: the conditional update is refused, naming them.
    return { kind: 'write', entry: conditionalPut(write, stamped) };
  }
  if (!current?.id) {
    // A conditional PUT here would overwrite a later state another writer put there meanwhile
    // (an A03 racing this A01), or make a second resource beside it: create only, and let the
    // writer read again if it lost the race.
    return {
      kind: 'write',
      createOnly: true,
      entry: {
        fullUrl: write.fullUrl,
        resource: stamped,
        request: {
          method: 'POST',
          url: write.resource.resourceType,
          ifNoneExist: `identifier=${tokenOf(write.identifier)}`,
        },
      },
    };
  }
  if (holdsLaterState(current, write)) {
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

/** What the server holds under a write's identifier (a search; each write's result read once). */
export type HeldLookup = (write: ResourceWrite) => Promise<FhirResource[]>;

/**
 * Starts at once the searches the planning of `writes` will make (the held state of every write),
 * so they travel in one batch with whatever else is read in the same turn (the participant
 * lookup). A search nobody awaits, when the record fails first, is not an unhandled rejection.
 */
export function lookUpHeld(fhir: FhirGateway, writes: readonly ResourceWrite[]): HeldLookup {
  const search = (w: ResourceWrite): Promise<FhirResource[]> =>
    fhir.search<FhirResource>(w.resource.resourceType, {
      identifier: `${w.identifier.system}|${w.identifier.value}`,
    });
  const started = new Map<string, Promise<FhirResource[]>>();
  for (const w of writes) {
    const found = search(w);
    found.catch(() => undefined);
    started.set(w.fullUrl, found);
  }
  return (w) => started.get(w.fullUrl) ?? search(w);
}

/** How far ahead of its arrival a source may date a record: clocks drift, but not by days. */
const MAX_FUTURE_MS = 24 * 3600_000;

/**
 * The order keys a write carries, as extensions. A source time far in the future (a wrong clock,
 * a typo) would freeze the resource against every later record: it is not used.
 */
function orderOf(write: ResourceWrite, receivedAt: string): Extension[] {
  const time =
    write.sourceTime && Date.parse(write.sourceTime) <= Date.parse(receivedAt) + MAX_FUTURE_MS
      ? [{ url: EXTENSION.sourceTime, valueDateTime: write.sourceTime }]
      : [];
  const version =
    write.sourceVersion !== undefined
      ? [{ url: EXTENSION.sourceVersion, valueInteger: write.sourceVersion }]
      : [];
  return [...time, ...version];
}

/** Whether the server holds a later state than the write: by source time, or by source version. */
export function holdsLaterState(current: FhirResource, write: ResourceWrite): boolean {
  const held = (url: string): Extension | undefined =>
    (current as DomainResource).extension?.find((e) => e.url === url);
  const heldTime = Date.parse(held(EXTENSION.sourceTime)?.valueDateTime ?? '');
  const heldVersion = held(EXTENSION.sourceVersion)?.valueInteger;
  return (
    (write.sourceTime !== undefined && heldTime > Date.parse(write.sourceTime)) ||
    (write.sourceVersion !== undefined && heldVersion !== undefined && heldVersion > write.sourceVersion)
  );
}

/** A conditional update on the resource's identifier. */
function conditionalPut(write: ResourceWrite, resource: FhirResource): BundleEntry {
  return {
    fullUrl: write.fullUrl,
    resource,
    request: { method: 'PUT', url: `${write.resource.resourceType}?identifier=${tokenOf(write.identifier)}` },
  };
}

const ORDER_KEYS: ReadonlySet<string> = new Set([EXTENSION.sourceTime, EXTENSION.sourceVersion]);

function withoutSourceOrder(resource: FhirResource): FhirResource {
  const extension = (resource as DomainResource).extension;
  if (!extension?.some((e) => ORDER_KEYS.has(e.url))) {
    return resource;
  }
  const rest = extension.filter((e) => !ORDER_KEYS.has(e.url));
  const { extension: _dropped, ...others } = resource as DomainResource;
  return (rest.length > 0 ? { ...others, extension: rest } : others) as FhirResource;
}
