import type { OperationOutcome } from 'fhir/r4.js';
import { HubError } from './hub-error.js';

/**
 * Turns anything thrown into a status and an OperationOutcome for the HTTP edge. Errors the
 * hub did not raise on purpose become a 500 whose text does not leak internals (or PHI).
 */
export function toOperationOutcome(err: unknown): { status: number; outcome: OperationOutcome } {
  if (err instanceof HubError) {
    return { status: err.status, outcome: err.toOperationOutcome() };
  }
  return {
    status: 500,
    outcome: {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'fatal', code: 'exception', diagnostics: 'Internal error; see the hub log.' }],
    },
  };
}

/** A one-issue OperationOutcome, for answers that are not errors (e.g. informational). */
export function outcome(
  severity: 'information' | 'warning' | 'error' | 'fatal',
  code: OperationOutcome['issue'][number]['code'],
  diagnostics: string,
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}
