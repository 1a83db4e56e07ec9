import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import type { InboundFormat } from '../config/inbound-formats.js';

/** One inbound batch as a partner sent it. */
export interface RecordedBatch {
  readonly format: InboundFormat;
  /** ISO time the hub received it. */
  readonly receivedAt: string;
  readonly body: Buffer;
}

/** What is stored per batch (the body as base64, so binary formats such as HMIS zips survive). */
interface StoredBatch {
  readonly format: InboundFormat;
  readonly receivedAt: string;
  readonly body: string;
}

/** Batches kept per partner unless told otherwise. */
export const DEFAULT_TRAFFIC_LIMIT = 100;
/** Larger batches are not kept (the gate replays typical traffic, not bulk loads). */
export const MAX_RECORDED_BYTES = 1024 * 1024;
/** A partner's recording is dropped after this long without a new batch. */
const TRAFFIC_TTL_SECONDS = 14 * 24 * 3600;

/**
 * The last N inbound batches of each partner, for the mapping release gate
 * (`npm run hub -- mapping diff`, src/cli/mapping-gate.ts), which replays them through the current
 * and a candidate partner file. One capped Redis list per partner (`<prefix>:traffic:<partnerId>`,
 * newest first, LPUSH + LTRIM).
 *
 * The bodies are PHI. They are kept in the hub's own Redis like the queued ingest jobs and the
 * rejected records, and bounded: at most `limit` batches of at most {@link MAX_RECORDED_BYTES}
 * each per partner (about 130 MiB of Redis at worst with the defaults), gone 14 days after the
 * partner's last batch.
 */
export class TrafficRecorder {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly limit: number = DEFAULT_TRAFFIC_LIMIT,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'traffic');
  }

  key(partnerId: string): string {
    return `${this.prefix}:traffic:${partnerId}`;
  }

  async record(
    partnerId: string,
    format: InboundFormat,
    body: Buffer,
    receivedAt: string = new Date().toISOString(),
  ): Promise<void> {
    if (body.length > MAX_RECORDED_BYTES) {
      return;
    }
    const stored: StoredBatch = { format, receivedAt, body: body.toString('base64') };
    await this.redis
      .multi()
      .lpush(this.key(partnerId), JSON.stringify(stored))
      .ltrim(this.key(partnerId), 0, this.limit - 1)
      .expire(this.key(partnerId), TRAFFIC_TTL_SECONDS)
      .exec();
  }

  /** The partner's recorded batches, newest first; at most `limit`. */
  async list(partnerId: string, limit: number = this.limit): Promise<RecordedBatch[]> {
    const items = await this.redis.lrange(this.key(partnerId), 0, Math.max(0, limit - 1));
    return items.map((text) => {
      const stored = JSON.parse(text) as StoredBatch;
      return {
        format: stored.format,
        receivedAt: stored.receivedAt,
        body: Buffer.from(stored.body, 'base64'),
      };
    });
  }
}
