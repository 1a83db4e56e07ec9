import type { Reference } from 'fhir/r4.js';

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
