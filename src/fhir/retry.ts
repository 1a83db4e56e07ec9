import { VersionConflictError } from './fhir-errors.js';

/** How often and how patiently a call is retried. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** First backoff; each retry doubles it up to `maxDelayMs`. @defaultValue 200 */
  readonly baseDelayMs: number;
  /** @defaultValue 5000 */
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: the n-th retry waits a random time in
 * [0, min(max, base * 2^n)], so many clients retrying at once spread out instead of stampeding.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(random() * ceiling);
}

/**
 * Runs `attempt` until it succeeds, the error is not retryable, or retries run out; the last
 * error is thrown as it was.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (err: unknown) => boolean,
  onRetry?: (err: unknown, retry: number, delayMs: number) => void,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry + 1);
    } catch (err) {
      if (retry >= policy.retries || !isRetryable(err)) {
        throw err;
      }
      const delayMs = backoffDelay(policy, retry);
      onRetry?.(err, retry + 1, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** A write that lost a race to another writer, sent again: not a fault, so a policy of its own. */
const WRITE_RACE: RetryPolicy = { retries: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

/**
 * Runs `write` again, from the start, when the server refused it as a conflict with a write at the
 * same moment (409): HAPI refuses the second of two creates of one conditional match or of one
 * client-assigned id, and an update or delete racing another (HAPI-2745, -0825, -0823). Sent
 * again, the write sees what the winner left. A 412 (a stale `If-Match`) is the caller's to read
 * again (fhir/change-resource.ts).
 */
export function againAfterWriteRace<T>(write: () => Promise<T>): Promise<T> {
  return withRetry(write, WRITE_RACE, (err) => err instanceof VersionConflictError && err.httpStatus === 409);
}
