import type { RedisClient } from '../queues/connection.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The deployment's rest-hook secret: made once, at the first start, and kept in Redis so every
 * replica of the deployment registers and checks the same one.
 */
export async function sharedHookSecret(redis: RedisClient, prefix: string): Promise<string> {
  const key = `${prefix}:hook-secret`;
  await redis.set(key, randomBytes(32).toString('hex'), 'NX');
  const secret = await redis.get(key);
  if (!secret) {
    throw new Error(`Redis did not keep ${key}`);
  }
  return secret;
}

/** Constant-time comparison of a presented secret with the expected one (any lengths). */
export function secretMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || given === '') {
    return false;
  }
  const digest = (v: string): Buffer => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
