import type { Request } from 'express';
import { InvalidInputError } from '../errors/hub-error.js';

/**
 * A whole-number query parameter (`?limit=`, `?offset=`) within `min`..`max`: undefined when it is
 * absent or empty (a form's blank field), else digits only (no `1e2`, `0x10`, sign or fraction).
 * Anything else is refused with an OperationOutcome naming the parameter.
 */
export function wholeNumberParam(
  query: Request['query'],
  name: string,
  { min, max }: { readonly min: number; readonly max: number },
): number | undefined {
  const raw = query[name];
  const given = typeof raw === 'string' ? raw.trim() : raw;
  if (given === undefined || given === '') {
    return undefined;
  }
  const value = typeof given === 'string' && /^\d+$/.test(given) ? Number(given) : NaN;
  if (!(value >= min && value <= max)) {
    const message = `${name} must be a whole number from ${min} to ${max}`;
    throw new InvalidInputError(message, [
      { severity: 'error', code: 'value', diagnostics: message, expression: [name] },
    ]);
  }
  return value;
}
