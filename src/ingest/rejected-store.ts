import { randomUUID } from 'node:crypto';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import type { FieldIssue } from '../adapters/types.js';
import { pageByTime, type TimePage } from './time-index.js';

/** A record the hub refused, kept until an engineer replays or discards it. */
export interface StoredRejection {
  readonly id: string;
  readonly partnerId: string;
  readonly format: string;
  readonly location: string;
  readonly sourceId?: string;
  readonly issues: readonly FieldIssue[];
  /** The record as received, so it can be fixed and replayed. */
  readonly raw?: string;
  /** For `write` rejections: the parsed record, replayed as it is (it is mapped again). */
  readonly record?: unknown;
  /** `parse`: the adapter refused it; `write`: the FHIR server refused what it mapped to. */
  readonly stage: 'parse' | 'write';
  /** `identity`: held for an identity conflict, for the identity review to decide. */
  readonly held?: 'identity';
  readonly rejectedAt: string;
}

/** How long a rejection is kept for an engineer to replay or discard it (then it expires). */
export const DEFAULT_REJECTED_RETENTION_DAYS = 30;
/** Rejections kept at most; past it the oldest go first. */
const MAX_REJECTIONS = 100_000;

/**
 * Rejected records in Redis: a key per record and a sorted set by time as the index. A rejection
 * stays until it is replayed or discarded, or its retention ends (`REJECTED_RETENTION_DAYS`, the
 * record's PHI with it); the index never holds more than {@link MAX_REJECTIONS}.
 */
export class RejectedStore {
  private readonly retentionSeconds: number;

  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    retentionDays: number = DEFAULT_REJECTED_RETENTION_DAYS,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'rejected');
    this.retentionSeconds = Math.round(retentionDays * 24 * 3600);
  }

  private key(id: string): string {
    return `${this.prefix}:rejected:${id}`;
  }

  private get index(): string {
    return `${this.prefix}:rejected:index`;
  }

  /**
   * Stores a rejection. Passing `id` makes the call idempotent (a retried job that is refused
   * again overwrites its own rejection instead of adding a second one).
   */
  async add(rejection: Omit<StoredRejection, 'id'>, id: string = randomUUID()): Promise<StoredRejection> {
    const stored: StoredRejection = { ...rejection, id };
    const expiredBefore = Date.parse(stored.rejectedAt) - this.retentionSeconds * 1000;
    await this.redis
      .multi()
      .set(this.key(stored.id), JSON.stringify(stored), 'EX', this.retentionSeconds)
      .zadd(this.index, Date.parse(stored.rejectedAt), stored.id)
      .zremrangebyscore(this.index, '-inf', `(${expiredBefore}`)
      .zremrangebyrank(this.index, 0, -(MAX_REJECTIONS + 1))
      .exec();
    return stored;
  }

  async get(id: string): Promise<StoredRejection | undefined> {
    const text = await this.redis.get(this.key(id));
    return text ? (JSON.parse(text) as StoredRejection) : undefined;
  }

  /** Newest first; `partnerId` narrows the list. The first page of {@link page}. */
  async list(opts: { partnerId?: string; limit?: number } = {}): Promise<StoredRejection[]> {
    return (await this.page(opts)).items;
  }

  /** A page of the list, newest first, and the cursor of the next (see {@link pageByTime}). */
  async page(
    opts: { partnerId?: string; held?: 'identity'; limit?: number; before?: string } = {},
  ): Promise<TimePage<StoredRejection>> {
    return pageByTime(
      this.redis,
      this.index,
      { limit: opts.limit ?? 100, ...(opts.before !== undefined ? { before: opts.before } : {}) },
      async (ids) =>
        (await this.redis.mget(ids.map((id) => this.key(id)))).map((text) =>
          text ? (JSON.parse(text) as StoredRejection) : undefined,
        ),
      (r) => (!opts.partnerId || r.partnerId === opts.partnerId) && (!opts.held || r.held === opts.held),
    );
  }

  async remove(id: string): Promise<boolean> {
    const [[, removed] = [null, 0]] =
      (await this.redis.multi().del(this.key(id)).zrem(this.index, id).exec()) ?? [];
    return removed === 1;
  }
}
