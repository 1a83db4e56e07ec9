import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from '../config/load-config.js';
import { DependencyError } from '../errors/hub-error.js';

/**
 * A Redis connection for the hub. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on
 * Redis and must survive a restart by reconnecting, not by failing the command); producers and
 * health checks fail fast instead, so an HTTP request never hangs on a Redis that is down.
 * @see https://docs.bullmq.io/guide/going-to-production
 */
export function createRedisConnection(url: string, role: 'worker' | 'producer'): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000 };
  return new Redis(url, { ...options, lazyConnect: true });
}

/**
 * Connects once and PINGs, with no reconnect attempts. Throws a {@link DependencyError} that
 * names `REDIS_URL` and the (password-redacted) URL when Redis cannot be reached.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined); // reported through the rejected promise below
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new DependencyError(
      'REDIS.UNREACHABLE',
      `Redis is not reachable at REDIS_URL=${redactUrl(url)}: ${(err as Error).message}`,
      err,
    );
  } finally {
    redis.disconnect();
  }
}

/** PING on an existing connection, bounded in time; for the readiness probe. */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
