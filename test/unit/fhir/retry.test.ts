import { describe, expect, it } from '@jest/globals';
import { backoffDelay, withRetry } from '../../../src/fhir/retry.js';

const policy = { retries: 3, baseDelayMs: 1, maxDelayMs: 4 };

describe('backoffDelay', () => {
  it('doubles the ceiling per retry, caps it, and spreads with jitter', () => {
    const p = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(p, n, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(p, 3, () => 0)).toBe(0);
    expect(backoffDelay(p, 3, () => 0.5)).toBe(400);
  });
});

describe('withRetry', () => {
  it('retries retryable errors until success', async () => {
    const attempts: number[] = [];
    const result = await withRetry(
      async (n) => {
        attempts.push(n);
        if (n < 3) {
          throw new Error('transient');
        }
        return 'done';
      },
      policy,
      () => true,
    );
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('stops at once on an error that is not retryable', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('permanent');
        },
        policy,
        () => false,
      ),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(1);
  });

  it('gives up after the last retry with the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error(`failure ${calls}`);
        },
        policy,
        () => true,
      ),
    ).rejects.toThrow('failure 4');
    expect(calls).toBe(4);
  });
});
