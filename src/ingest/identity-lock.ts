import type { RedisClient } from '../queues/connection.js';
import { createHash, randomUUID } from 'node:crypto';
import type { Identifier } from 'fhir/r4.js';
import { releaseOwn } from '../queues/lease.js';

/** Runs `fn` while no other hub process resolves a participant by any of the same identifiers. */
export type IdentityLock = <T>(identifiers: readonly Identifier[], fn: () => Promise<T>) => Promise<T>;

/** Longest a lock is held if its holder dies. */
const LEASE_MS = 30_000;
/** Longest a caller waits for the identifiers before it gives up (the job is retried). */
const WAIT_MS = 60_000;

/**
 * Serialises the first records of a new person: two records arriving together (an admission with
 * MRN and Medicaid ID, a service plan with the Medicaid ID only) would each find no Patient and
 * each create one, and every later record would then match two. Under the lock the second one
 * searches again and finds the first one's Patient. The ingest writer holds it while a record's
 * first reads go out, its participant's lookup being the conditional create that makes a new one
 * (ingest/write-mapped-record.ts). One Redis key per identifier, taken in a fixed
 * order (no deadlock), with a lease so a crashed holder cannot block for ever.
 */
export function redisIdentityLock(redis: RedisClient, prefix: string): IdentityLock {
  return async (identifiers, fn) => {
    const keys = [
      ...new Set(
        identifiers.map(
          (i) =>
            `${prefix}:identity-lock:${createHash('sha256').update(`${i.system}|${i.value}`).digest('hex').slice(0, 32)}`,
        ),
      ),
    ].sort();
    const token = randomUUID();
    const deadline = Date.now() + WAIT_MS;
    const held: string[] = [];
    try {
      for (const key of keys) {
        for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
          if ((await redis.set(key, token, 'PX', LEASE_MS, 'NX')) === 'OK') {
            held.push(key);
            break;
          }
          if (Date.now() > deadline) {
            throw new Error('participant identifiers stayed locked by another record; retrying later');
          }
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
      return await fn();
    } finally {
      for (const key of held) {
        await releaseOwn(redis, key, token);
      }
    }
  };
}
