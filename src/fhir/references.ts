import type { Bundle, Reference } from 'fhir/r4.js';
import { VersionConflictError } from './fhir-errors.js';

function isReference(value: unknown): value is Reference {
  return typeof value === 'object' && value !== null && typeof (value as Reference).reference === 'string';
}

/** A deep copy of `value` with every Reference (an object with a string `reference`) passed through `map`. */
export function mapReferences<T>(value: T, map: (ref: Reference) => Reference): T {
  if (value === undefined) {
    return value;
  }
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (isReference(v) ? map(v) : v))) as T;
}

/** `Type/id`, with an optional `/_history/n`: a reference relative to a FHIR server. */
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The type and logical id a relative reference names; undefined for any other kind of reference. */
export function relativeReference(reference: string): { type: string; id: string } | undefined {
  const match = RELATIVE.exec(reference);
  return match ? { type: match[1]!, id: match[2]! } : undefined;
}

/** `Type/id` and version from a transaction-response entry's location (`[base/]Type/id/_history/n`). */
export function locationOf(response: Bundle, index: number): { reference: string; version: string } {
  const location = response.entry?.[index]?.response?.location ?? '';
  const parts = location.split('/');
  const at = parts.lastIndexOf('_history');
  if (at < 2 || at !== parts.length - 2) {
    return { reference: location, version: '' };
  }
  return { reference: `${parts[at - 2]}/${parts[at - 1]}`, version: parts[at + 1] ?? '' };
}

/**
 * A conditional create (`If-None-Exist`) of a transaction that matched a resource instead of
 * creating one (`200`, not `201`): another writer created it after this one looked. A version
 * conflict, so the caller reads again and decides again instead of losing what it meant to write.
 */
export function checkCreated(response: Bundle, index: number, what: string): void {
  if (!response.entry?.[index]?.response?.status?.startsWith('201')) {
    throw new VersionConflictError(409, `POST ${what} (created by another writer meanwhile)`, undefined);
  }
}
