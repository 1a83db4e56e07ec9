import { randomUUID } from 'node:crypto';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { LineChange } from './line-diff.js';
import type { IdentityDecision } from './identity-review.js';
import { pageByTime, type PageRequest, type TimePage } from './time-index.js';

/** One record of a logged message, as the hub answered it at the door. */
export interface LoggedRecord {
  readonly location: string;
  /** The sender's id of the record: MSH-10, plan id, visit id, HMIS PersonalID, MessageHeader id. */
  readonly sourceId?: string;
  readonly status: 'accepted' | 'rejected' | 'skipped';
  readonly jobId?: string;
  readonly rejectionId?: string;
}

/** One inbound message or batch, without its body: who sent what, when, and its business keys. */
export interface LoggedMessage {
  readonly id: string;
  readonly partnerId: string;
  readonly format: InboundFormat;
  readonly receivedAt: string;
  readonly bytes: number;
  readonly counts: { readonly accepted: number; readonly rejected: number; readonly skipped: number };
  /** What it can be found by (see {@link MessageLog.find}); the message keeps the first {@link KEYS_KEPT}, the index all. */
  readonly keys: readonly string[];
  /** Its records, the first {@link RECORDS_KEPT}. */
  readonly records: readonly LoggedRecord[];
  /** The message this one replays (an engineer's replay of one of its records). */
  readonly replayOf?: string;
  /** A replay an engineer edited first: who, why, and what they changed. */
  readonly edit?: ReplayEdit;
  /** A replay of a record held for an identity conflict: the engineer's decision. */
  readonly identity?: IdentityResolution;
}

/** An engineer's decision on an identity conflict, kept with the replay it made. */
export interface IdentityResolution {
  /** The member of staff, as `username (role)`. */
  readonly by: string;
  readonly reason: string;
  readonly decision: IdentityDecision;
}

/** An engineer's edit of a record before replaying it, kept with the replay. */
export interface ReplayEdit {
  /** The member of staff, as `username (role)`. */
  readonly by: string;
  readonly reason: string;
  readonly diff: readonly LineChange[];
}

export interface MessageQuery extends Partial<PageRequest> {
  /** A business key, exactly (any case). */
  readonly key?: string;
  readonly partnerId?: string;
  readonly format?: string;
  /** `rejected`: with at least one rejected record; `accepted`: with none. */
  readonly status?: 'accepted' | 'rejected';
}

/** How long the log keeps a message unless configured (`MESSAGE_LOG_DAYS`). */
export const DEFAULT_MESSAGE_LOG_DAYS = 30;
/** Records listed per message; a bulk export's count stays exact, its list stops here. */
const RECORDS_KEPT = 1000;
/** Keys a message keeps in itself (an HMIS export has thousands; each is still indexed). */
const KEYS_KEPT = 200;
/** Messages the log holds at most; past it the oldest go first. */
const MAX_MESSAGES = 500_000;

/**
 * The message log (README, "The engineer's console"): every inbound message or batch, its records
 * and what they can be found by, in Redis beside the queues. Metadata only: the bodies stay where
 * they already are (the queued jobs, the rejected records, the release gate's recording), each
 * with its own retention; the log's business keys (participant identifiers among them) go when
 * the log's retention ends.
 *
 * A key index per business key (a sorted set of message ids by time) makes a search by MSH-10 or
 * Medicaid ID one read, however long the log.
 */
export class MessageLog {
  private readonly retentionSeconds: number;

  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    retentionDays: number = DEFAULT_MESSAGE_LOG_DAYS,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'messages');
    this.retentionSeconds = Math.round(retentionDays * 24 * 3600);
  }

  private doc(id: string): string {
    return `${this.prefix}:messages:${id}`;
  }

  private keyIndex(key: string): string {
    return `${this.prefix}:messages:key:${key.trim().toLowerCase()}`;
  }

  private get index(): string {
    return `${this.prefix}:messages:index`;
  }

  async add(message: Omit<LoggedMessage, 'id'>): Promise<LoggedMessage> {
    const stored: LoggedMessage = {
      ...message,
      id: randomUUID(),
      records: message.records.slice(0, RECORDS_KEPT),
      keys: message.keys.slice(0, KEYS_KEPT),
    };
    const at = Date.parse(stored.receivedAt);
    const multi = this.redis
      .multi()
      .set(this.doc(stored.id), JSON.stringify(stored), 'EX', this.retentionSeconds)
      .zadd(this.index, at, stored.id)
      .zremrangebyscore(this.index, '-inf', `(${at - this.retentionSeconds * 1000}`)
      .zremrangebyrank(this.index, 0, -(MAX_MESSAGES + 1));
    this.indexKeys(multi, stored.id, at, message.keys);
    await multi.exec();
    return stored;
  }

  /** Adds keys to the messages that carried a job (what its record wrote: `CarePlan/<id>`, `Patient/<id>`). */
  async addKeys(jobId: string, keys: readonly string[]): Promise<void> {
    const carriers = await this.redis.zrange(this.keyIndex(jobId), 0, -1, 'WITHSCORES');
    if (carriers.length === 0) {
      return;
    }
    const multi = this.redis.multi();
    for (let i = 0; i + 1 < carriers.length; i += 2) {
      this.indexKeys(multi, carriers[i]!, Number(carriers[i + 1]), keys);
    }
    await multi.exec();
  }

  private indexKeys(
    multi: ReturnType<RedisClient['multi']>,
    id: string,
    at: number,
    keys: readonly string[],
  ): void {
    for (const key of new Set(keys.map((k) => k.trim().toLowerCase()).filter(Boolean))) {
      multi
        .zadd(this.keyIndex(key), at, id)
        .zremrangebyscore(this.keyIndex(key), '-inf', `(${at - this.retentionSeconds * 1000}`)
        .expire(this.keyIndex(key), this.retentionSeconds);
    }
  }

  async get(id: string): Promise<LoggedMessage | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      return undefined;
    }
    const text = await this.redis.get(this.doc(id));
    return text ? (JSON.parse(text) as LoggedMessage) : undefined;
  }

  /** Messages newest first, a page at a time: by a business key's own index, else the whole log. */
  async find(query: MessageQuery): Promise<TimePage<LoggedMessage>> {
    const index = query.key ? this.keyIndex(query.key) : this.index;
    return pageByTime(
      this.redis,
      index,
      {
        limit: query.limit ?? 50,
        ...(query.before !== undefined ? { before: query.before } : {}),
        ...(query.from !== undefined ? { from: query.from } : {}),
        ...(query.to !== undefined ? { to: query.to } : {}),
      },
      async (ids) =>
        (await this.redis.mget(ids.map((id) => this.doc(id)))).map((text) =>
          text ? (JSON.parse(text) as LoggedMessage) : undefined,
        ),
      (m) =>
        (!query.partnerId || m.partnerId === query.partnerId) &&
        (!query.format || m.format === query.format) &&
        (!query.status || (query.status === 'rejected') === m.counts.rejected > 0),
    );
  }
}

/** Searches of the message log an engineer saved, by name (README, "The engineer's console"). */
export class SavedSearches {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'saved-searches');
  }

  private key(username: string): string {
    return `${this.prefix}:saved-searches:${username}`;
  }

  /** The engineer's searches, by name: each a query string of `/ui/messages`. */
  async list(username: string): Promise<Array<{ name: string; query: string }>> {
    const all = await this.redis.hgetall(this.key(username));
    return Object.entries(all)
      .map(([name, query]) => ({ name, query }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async save(username: string, name: string, query: string): Promise<void> {
    await this.redis.hset(this.key(username), name, query);
  }

  async remove(username: string, name: string): Promise<void> {
    await this.redis.hdel(this.key(username), name);
  }
}
