import {
  storeKeyPrefix,
  type FinishedJob,
  type JobObserver,
  type RedisClient,
} from '../queues/connection.js';
import type { IngestCounter } from './hub-metrics.js';

/**
 * What is counted per partner, format and hour: records taken at the door (`received`) or refused
 * there (`rejected`), applied to the FHIR server (`applied`) or failed there for good (`failed`),
 * plan versions delivered to a partner (`delivered`) and acknowledged by it (`acknowledged`).
 */
export const THROUGHPUT_KINDS = [
  'received',
  'rejected',
  'applied',
  'failed',
  'delivered',
  'acknowledged',
] as const;
export type ThroughputKind = (typeof THROUGHPUT_KINDS)[number];

/** One count of one hour. */
export interface ThroughputCount {
  /** The hour's start (ISO, UTC). */
  readonly hour: string;
  readonly partnerId: string;
  /** The inbound format, or `delivery` for what went out to the partner. */
  readonly format: string;
  readonly kind: ThroughputKind;
  readonly count: number;
}

/** How long an hour's counts are kept. */
const KEEP_DAYS = 8;
const HOUR_MS = 3_600_000;

/**
 * Hourly counts in Redis, shared by every hub process (the page `/ui/throughput` charts them);
 * Prometheus has the same numbers per process at `/metrics`. One hash per hour, a field per
 * `partner|format|kind`. Counting never holds up the work it counts: a failed increment is lost.
 */
export class Throughput implements JobObserver, IngestCounter {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'throughput');
  }

  private key(hourStart: number): string {
    return `${this.prefix}:throughput:${new Date(hourStart).toISOString().slice(0, 13)}`;
  }

  count(partnerId: string, format: string, kind: ThroughputKind, at = Date.now()): void {
    const key = this.key(at - (at % HOUR_MS));
    this.redis
      .multi()
      .hincrby(key, `${partnerId}|${format}|${kind}`, 1)
      .expire(key, KEEP_DAYS * 24 * 3600)
      .exec()
      .catch(() => undefined);
  }

  received(partnerId: string, format: string, status: 'accepted' | 'rejected' | 'skipped'): void {
    if (status !== 'skipped') {
      this.count(partnerId, format, status === 'accepted' ? 'received' : 'rejected');
    }
  }

  finished(queue: string, job: FinishedJob, outcome: 'completed' | 'retrying' | 'failed'): void {
    const data = (job.data ?? {}) as { partnerId?: unknown; format?: unknown };
    if (queue === 'ingest' && outcome !== 'retrying' && typeof data.partnerId === 'string') {
      this.count(data.partnerId, String(data.format), outcome === 'completed' ? 'applied' : 'failed');
    }
  }

  /** Every count of the hours from `from` to `to`, oldest first. */
  async hours(from: Date, to: Date): Promise<ThroughputCount[]> {
    const starts: number[] = [];
    for (let h = from.getTime() - (from.getTime() % HOUR_MS); h <= to.getTime(); h += HOUR_MS) {
      starts.push(h);
    }
    const pipeline = this.redis.pipeline();
    for (const h of starts) {
      pipeline.hgetall(this.key(h));
    }
    const results = (await pipeline.exec()) ?? [];
    return starts.flatMap((h, i) =>
      Object.entries((results[i]?.[1] ?? {}) as Record<string, string>).map(([field, n]) => {
        const [partnerId = '', format = '', kind] = field.split('|');
        return {
          hour: new Date(h).toISOString(),
          partnerId,
          format,
          kind: kind as ThroughputKind,
          count: Number(n),
        };
      }),
    );
  }
}

/** Tells each observer of every job that ends. */
export function observers(...all: readonly JobObserver[]): JobObserver {
  return { finished: (queue, job, outcome) => all.forEach((o) => o.finished(queue, job, outcome)) };
}

/** Tells each counter of every record at the door. */
export function ingestCounters(...all: readonly IngestCounter[]): IngestCounter {
  return {
    received: (partnerId, format, status) => all.forEach((c) => c.received(partnerId, format, status)),
  };
}
