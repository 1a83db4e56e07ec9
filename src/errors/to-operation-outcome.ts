import type { OperationOutcome } from 'fhir/r4.js';
import { DependencyError, HubError } from './hub-error.js';

/**
 * Turns anything thrown into a status and an OperationOutcome for the HTTP edge. Errors the
 * hub did not raise on purpose become a 500 whose text does not leak internals (or PHI).
 */
export function toOperationOutcome(err: unknown): { status: number; outcome: OperationOutcome } {
  if (err instanceof HubError) {
    return { status: err.status, outcome: err.toOperationOutcome() };
  }
  if (redisAway(err)) {
    return toOperationOutcome(
      new DependencyError(
        'REDIS.UNAVAILABLE',
        'Redis, where the hub keeps its queues, is not reachable: send again shortly (a record sent twice changes nothing)',
        err,
      ),
    );
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

/** What ioredis throws when its server went away mid-request (the HTTP side fails fast rather than wait). */
const REDIS_AWAY_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const REDIS_AWAY_MESSAGES =
  /^(Stream isn't writeable and enableOfflineQueue options is false|Connection is closed\.)/;

function redisAway(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | undefined;
  return (
    (typeof e?.name === 'string' && REDIS_AWAY_NAMES.has(e.name)) ||
    (typeof e?.message === 'string' && REDIS_AWAY_MESSAGES.test(e.message))
  );
}
