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
