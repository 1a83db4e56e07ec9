import { DelayedError, type Job } from 'bullmq';
import type { RedisClient } from './connection.js';

const RELEASE_OWN =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW_OWN =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/** Frees `key` if it is still ours (a lease that lapsed, e.g. while Redis was away, may be someone else's now). */
export async function releaseOwn(redis: RedisClient, key: string, token: string): Promise<void> {
  await redis.eval(RELEASE_OWN, 1, key, token);
}

/**
 * Runs `fn` holding `key` (set to `token`), renewed every third of `ttlMs` while it runs, so a
 * process that dies holding it (SIGKILL, crash) frees it within `ttlMs`, not after the longest
 * `fn` could take. Returns `busy` without running `fn` when someone else holds it.
 */
export async function whileHolding<T>(
  redis: RedisClient,
  key: string,
  token: string,
  ttlMs: number,
  fn: () => Promise<T>,
): Promise<T | 'busy'> {
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
    return 'busy';
  }
  const renew = setInterval(
    () => {
      redis.eval(RENEW_OWN, 1, key, token, String(ttlMs)).catch(() => undefined);
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await releaseOwn(redis, key, token);
  }
}

/**
 * Puts a job back until `at` without using one of its attempts (a circuit open, a lock held by
 * another sender): waiting is not failing, and must not push the job into long backoff.
 */
export async function holdJob(job: Job, at: number, token: string | undefined): Promise<never> {
  await job.moveToDelayed(at, token);
  throw new DelayedError();
}
