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
 * What every worker of the hub is started with: the blocking connection, the key prefix, and how
 * long its hold on a job lasts. A job whose worker died is found stalled and taken up again after
 * `lockDuration` (BullMQ checks every `stalledInterval`, set to the same).
 */
export interface WorkerConnection {
  readonly connection: Redis;
  readonly prefix: string;
  readonly lockDuration: number;
  readonly stalledInterval: number;
  readonly maxStalledCount: number;
  /** Told of every job that ends (the hub's metrics); kept out of BullMQ's own options. */
  readonly observer?: JobObserver;
}

/** What an observer of the workers is told of a job that ended (BullMQ's job, read only). */
export interface FinishedJob {
  readonly data: unknown;
  readonly timestamp: number;
  readonly delay?: number;
  readonly finishedOn?: number;
}

/** Told of every job attempt that ends, in every queue (metrics/hub-metrics.ts counts them). */
export interface JobObserver {
  finished(queue: string, job: FinishedJob, outcome: 'completed' | 'retrying' | 'failed'): void;
}

/**
 * How often a job may be found stalled before BullMQ fails it (its default is once). A job stalls
 * when its process dies or when Redis was away longer than the lock lasts; every job of the hub
 * can run again safely, so a few crashes or Redis restarts in a row must not turn it into a dead
 * letter. A job that kills its process every time still ends in the failed set.
 */
const MAX_STALLED = 10;

export function workerConnection(
  connection: Redis,
  prefix: string,
  jobLockMs: number,
  observer?: JobObserver,
): WorkerConnection {
  return {
    connection,
    prefix,
    lockDuration: jobLockMs,
    stalledInterval: jobLockMs,
    maxStalledCount: MAX_STALLED,
    ...(observer ? { observer } : {}),
  };
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
  let memory: string;
  try {
    await redis.connect();
    await redis.ping();
    memory = await redis.info('memory');
  } catch (err) {
    redis.disconnect();
    throw new DependencyError(
      'REDIS.UNREACHABLE',
      `Redis is not reachable at REDIS_URL=${redactUrl(url)}: ${(err as Error).message}`,
      err,
    );
  }
  redis.disconnect();
  // Queued jobs, delivery marks and locks are the hub's state: a Redis that evicts keys under
  // memory pressure would drop accepted records and re-send deliveries without a trace.
  const policy = infoField(memory, 'maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    throw new DependencyError(
      'REDIS.EVICTS',
      `Redis at REDIS_URL=${redactUrl(url)} has maxmemory-policy ${policy}; the hub needs noeviction (it would lose queued records): set maxmemory-policy noeviction`,
    );
  }
}

/** How Redis keeps its data, for `/ready`: `aof` (with its fsync), `rdb`, or `none` (memory only). */
export async function redisPersistence(redis: Redis): Promise<string> {
  const setting = async (name: string): Promise<string> =>
    (((await redis.config('GET', name).catch(() => [])) as string[])[1] ?? '').trim();
  if (infoField(await redis.info('persistence'), 'aof_enabled') === '1') {
    return `aof (appendfsync ${(await setting('appendfsync')) || 'unknown'})`;
  }
  const saves = await setting('save');
  return saves ? `rdb (save ${saves})` : 'none (memory only: a Redis restart loses queued work)';
}

function infoField(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
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
