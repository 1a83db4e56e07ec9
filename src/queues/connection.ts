import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redactUrl } from '../config/load-config.js';
import { DependencyError } from '../errors/hub-error.js';

/** A connection to the hub's Redis: one server, or a Redis Cluster (README "Redis Cluster"). */
export type RedisClient = Redis | Cluster;

/**
 * The key prefix of one queue or one store of the hub's own keys (the message log, the delivery
 * status, ...). On one server the hub's prefix, one hash tag over every key, where keys already
 * are. On a Redis Cluster a hash tag of its own, `{hub:name}`, so queues and stores spread over
 * the slots while each one's keys, which its scripts and transactions update together, stay in
 * one. A store's name is never a queue's. README "Redis Cluster".
 */
export function keyPrefixOf(prefix: string, name: string, cluster: boolean): string {
  return cluster ? `{${prefix.replace(/[{}]/g, '')}:${name}}` : prefix;
}

/** {@link keyPrefixOf} of a store on this connection. */
export function storeKeyPrefix(redis: RedisClient, prefix: string, store: string): string {
  return keyPrefixOf(prefix, store, redis.isCluster);
}

/** Where the hub's Redis is: one URL, or with `cluster` the URLs of one or more cluster nodes. */
export interface RedisTarget {
  /** `redis://` or `rediss://`; for a cluster, comma-separated seed nodes (the rest are discovered). */
  readonly url: string;
  readonly cluster: boolean;
}

/**
 * A Redis connection for the hub. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on
 * Redis and must survive a restart by reconnecting, not by failing the command); producers and
 * health checks fail fast instead, so an HTTP request never hangs on a Redis that is down.
 * @see https://docs.bullmq.io/guide/going-to-production
 */
export function createRedisConnection(target: RedisTarget, role: 'worker' | 'producer'): RedisClient {
  const failFast = role === 'producer';
  const options: RedisOptions = failFast
    ? { maxRetriesPerRequest: 1, connectTimeout: 5000 }
    : { maxRetriesPerRequest: null, ...BLOCKING_READS_END };
  return clientOf(target, options, { offlineQueue: !failFast, reconnect: true });
}

/**
 * A worker's blocking read (BullMQ's BZPOPMIN, QueueEvents' XREAD BLOCK) ends on the client's
 * clock too: 100 ms (ioredis' grace) after the time it asked the server for, or after a second if
 * it asked to wait for ever. Without it a read in flight on a connection that went away could
 * wait for ever: on a cluster whose master was killed and restarted, an idle queue's worker never
 * took another job and could not be closed (README "Redis Cluster"). A read that ends this way
 * answers "nothing yet", as the server would, and the worker asks again; a longer grace (2 s) left
 * workers stuck as before.
 */
const BLOCKING_READS_END: RedisOptions = { blockingTimeout: 1_000 };

/** A client, not yet connected, of one server or of a cluster, with the same options for either. */
function clientOf(
  target: RedisTarget,
  options: RedisOptions,
  how: { readonly offlineQueue: boolean; readonly reconnect: boolean },
): RedisClient {
  const never = (): null => null;
  return target.cluster
    ? clusterClient(target.url, options, {
        lazyConnect: true,
        enableOfflineQueue: how.offlineQueue,
        ...(how.reconnect ? {} : { clusterRetryStrategy: never }),
      })
    : new Redis(target.url, {
        ...options,
        lazyConnect: true,
        enableOfflineQueue: how.offlineQueue,
        ...(how.reconnect ? {} : { retryStrategy: never }),
      });
}

/**
 * A Redis Cluster client from comma-separated seed URLs. Nodes found through the cluster get the
 * first seed's credentials and TLS, as every node of one cluster shares them.
 */
function clusterClient(urls: string, redisOptions: RedisOptions, options: ClusterOptions): Cluster {
  const seeds = clusterSeeds(urls);
  const first = new URL(seeds[0]!);
  return new Cluster(seeds, {
    ...options,
    redisOptions: {
      ...redisOptions,
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/** The seed URLs of a cluster's `REDIS_URL` (comma-separated). */
export function clusterSeeds(urls: string): string[] {
  return urls
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

/** The masters of a cluster (each holds a share of the keys), or the one server. */
export function serversOf(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * What every worker of the hub is started with: the blocking connection, the key prefix, and how
 * long its hold on a job lasts. A job whose worker died is found stalled and taken up again after
 * `lockDuration` (BullMQ checks every `stalledInterval`, set to the same).
 */
export interface WorkerConnection {
  readonly connection: RedisClient;
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
  connection: RedisClient,
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
 * names `REDIS_URL` and the (password-redacted) URL when Redis cannot be reached, or when a
 * cluster does not serve all its slots.
 */
export async function checkRedis(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const shown = `REDIS_URL=${clusterSeeds(target.url).map(redactUrl).join(',')}`;
  const once: RedisOptions = { connectTimeout: timeoutMs, maxRetriesPerRequest: 0 };
  const redis = clientOf(target, once, { offlineQueue: false, reconnect: false });
  redis.on('error', () => undefined); // reported through the rejected promise below
  let memory: string[];
  try {
    await withTimeout(redis.connect(), timeoutMs);
    await redis.ping();
    if (redis instanceof Cluster) {
      const state = infoField(await redis.cluster('INFO'), 'cluster_state');
      if (state !== 'ok') {
        throw new Error(`cluster_state is ${state ?? 'unknown'}: not every slot is served`);
      }
    }
    memory = await Promise.all(serversOf(redis).map((node) => node.info('memory')));
  } catch (err) {
    redis.disconnect();
    throw new DependencyError(
      'REDIS.UNREACHABLE',
      `Redis is not reachable at ${shown}: ${(err as Error).message}`,
      err,
    );
  }
  redis.disconnect();
  // Queued jobs, delivery marks and locks are the hub's state: a Redis that evicts keys under
  // memory pressure would drop accepted records and re-send deliveries without a trace.
  const policy = memory
    .map((m) => infoField(m, 'maxmemory_policy'))
    .find((p) => p !== undefined && p !== 'noeviction');
  if (policy !== undefined) {
    throw new DependencyError(
      'REDIS.EVICTS',
      `Redis at ${shown} has maxmemory-policy ${policy}; the hub needs noeviction (it would lose queued records): set maxmemory-policy noeviction`,
    );
  }
}

/**
 * How Redis keeps its data, for `/ready`: `aof` (with its fsync), `rdb`, or `none` (memory only).
 * On a cluster, each master's, when they differ.
 */
export async function redisPersistence(redis: RedisClient): Promise<string> {
  const each = await Promise.all(serversOf(redis).map(serverPersistence));
  return [...new Set(each)].join('; ');
}

async function serverPersistence(redis: Redis): Promise<string> {
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
export async function pingRedis(redis: RedisClient, timeoutMs = 2000): Promise<void> {
  await withTimeout(redis.ping(), timeoutMs);
}

/** What {@link withTimeout} rejects with when the work did not settle in time. */
export class NoAnswerInTime extends Error {}

/** `work`, or a {@link NoAnswerInTime} rejection after `timeoutMs` (the work itself goes on). */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NoAnswerInTime(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
