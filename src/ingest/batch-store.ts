import { randomUUID } from 'node:crypto';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import type { OperationOutcome } from 'fhir/r4.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { IngestReport } from './ingest-service.js';

/** A batch sent with `Prefer: respond-async`: its body until parsed, then what became of it. */
export interface StoredBatch {
  readonly id: string;
  readonly partnerId: string;
  readonly format: InboundFormat;
  readonly receivedAt: string;
  readonly bytes: number;
  /** `received`: stored, waiting to be parsed; `parsed`: every record accepted or refused; `failed`: refused whole. */
  readonly state: 'received' | 'parsed' | 'failed';
  readonly report?: IngestReport;
  /** Why the whole batch was refused (`failed`), and the HTTP status a synchronous call would have had. */
  readonly failure?: { readonly status: number; readonly outcome: OperationOutcome };
}

/** How long a batch's status can be read after it was received (its body goes once parsed). */
const RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Batches taken asynchronously, in Redis: the body is stored before the 202 is sent, so a batch
 * the hub has answered for survives a crash before it is parsed; the parsed report replaces it.
 */
export class BatchStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'batches');
  }

  private key(id: string, part: 'meta' | 'body'): string {
    return `${this.prefix}:batch:${id}:${part}`;
  }

  /** Stores a new batch and its body together; returns its id. */
  async create(partnerId: string, format: InboundFormat, body: Buffer): Promise<StoredBatch> {
    const batch: StoredBatch = {
      id: randomUUID(),
      partnerId,
      format,
      receivedAt: new Date().toISOString(),
      bytes: body.length,
      state: 'received',
    };
    await this.redis
      .multi()
      .set(this.key(batch.id, 'body'), body, 'EX', RETENTION_SECONDS)
      .set(this.key(batch.id, 'meta'), JSON.stringify(batch), 'EX', RETENTION_SECONDS)
      .exec()
      .then(failedCommand);
    return batch;
  }

  async get(id: string): Promise<StoredBatch | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      return undefined;
    }
    const text = await this.redis.get(this.key(id, 'meta'));
    return text ? (JSON.parse(text) as StoredBatch) : undefined;
  }

  async body(id: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(this.key(id, 'body'))) ?? undefined;
  }

  /** The batch's new state; its body is dropped once it was parsed or refused whole. */
  async save(batch: StoredBatch): Promise<void> {
    const multi = this.redis.multi().set(this.key(batch.id, 'meta'), JSON.stringify(batch), 'KEEPTTL');
    if (batch.state !== 'received') {
      multi.del(this.key(batch.id, 'body'));
    }
    await multi.exec().then(failedCommand);
  }
}

/** A MULTI answers each command's error in place rather than throwing it. */
function failedCommand(results: [Error | null, unknown][] | null): void {
  const failed = results?.find(([err]) => err)?.[0];
  if (failed || !results) {
    throw failed ?? new Error('Redis transaction aborted');
  }
}
