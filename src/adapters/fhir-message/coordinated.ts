import { HUB_OWNED, mayWrite } from '../../fhir/inbound-writable.js';
import type { SkippedRecord } from '../types.js';
import type { JsonResource, OutsideTarget } from './types.js';

/** An entry as the FHIR adapters read it: where it was, what it holds, how others point at it. */
export interface KeyedEntry {
  readonly index: number;
  readonly resource: JsonResource;
  /** Keys other entries may use to point at it: fullUrl, `Type/id`, the conditional URL. */
  readonly keys: readonly string[];
  /** The sender's logical id, when the resource carries no identifier of its own. */
  readonly identity?: string;
}

/** How other entries of a Bundle may point at an entry: its fullUrl (as sent and lower-cased), `Type/id`. */
export function entryKeys(fullUrl: string | undefined, resource: JsonResource): string[] {
  return [
    fullUrl,
    fullUrl?.toLowerCase(),
    resource.id ? `${resource.resourceType}/${resource.id}` : undefined,
  ].filter((k): k is string => Boolean(k));
}

/** What the sender's file lets through: types it may store, and whether hub-owned ones stay for the boundary. */
export interface CoordinationPolicy {
  /** `inbound.uncoordinated: store` in the sender's file. */
  readonly storesUncoordinated: boolean;
  /**
   * Keep what only the hub writes, so the write boundary refuses the record (a FHIR message, which
   * the sender meant as a whole); otherwise skip it with a warning (a transaction's directory entries).
   */
  readonly keepHubOwned: boolean;
}

/**
 * Splits entries into what the sender may write and what is skipped (reported, one per entry,
 * README "FHIR transactions and batches"), and records how references to a skipped entry are
 * kept: by its identifier, or the sender's id.
 */
export function splitCoordinated<E extends KeyedEntry>(
  read: readonly E[],
  location: string,
  policy: CoordinationPolicy,
): { kept: E[]; skipped: SkippedRecord[]; outside: Record<string, OutsideTarget> } {
  const kept: E[] = [];
  const skipped: SkippedRecord[] = [];
  const outside: Record<string, OutsideTarget> = {};
  for (const e of read) {
    const type = e.resource.resourceType;
    const hubOwned = HUB_OWNED.has(type);
    if (
      type === 'Patient' ||
      mayWrite(type, policy.storesUncoordinated) ||
      (hubOwned && policy.keepHubOwned)
    ) {
      kept.push(e);
      continue;
    }
    skipped.push({
      location: `${location} entry ${e.index} (${type})`,
      entries: [e.index],
      ...(hubOwned
        ? {
            reason: `not applied: the hub alone writes ${type} on the shared server (ask the hub's staff pages or API for consent and care-team changes)`,
            warning: true,
          }
        : {
            reason: `${type} is not a resource the hub coordinates (the sender's file says uncoordinated: skip); references to it are kept as identifiers`,
          }),
    });
    const identifier = (e.resource.identifier ?? []).find((i) => i.system && i.value);
    for (const key of e.keys) {
      outside[key] = {
        resourceType: type,
        ...(identifier ? { identifier: { system: identifier.system!, value: identifier.value! } } : {}),
        ...(!identifier && e.identity ? { identity: e.identity } : {}),
      };
    }
  }
  return { kept, skipped, outside };
}
