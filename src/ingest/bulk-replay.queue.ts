import { randomUUID } from 'node:crypto';
import type { Job, Queue, Worker } from 'bullmq';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { createHubQueue, startHubWorker } from '../queues/queue-factory.js';
import type { Logger } from '../logging/logger.js';
import type { IngestService } from './ingest-service.js';
import type { MessageLog, MessageQuery } from './message-log.js';
import type { RejectedStore, StoredRejection } from './rejected-store.js';

/**
 * Bulk replay (README, "The engineer's console"): the rejected records of a message-log search,
 * replayed at most `limit` of them, at most `perSecond` a second, by a job (the request answers at
 * once). Each replay is a message of its own, linked to the one it replays.
 */
export const BULK_REPLAY_QUEUE = 'bulk-replays';

export interface BulkReplayRequest {
  /** The search whose messages' rejected records are replayed (its page fields are ignored). */
  readonly query: Omit<MessageQuery, 'limit' | 'before'>;
  readonly limit: number;
  readonly perSecond: number;
  /** Who asked, as `username (role)`. */
  readonly by: string;
}

export interface BulkReplayResult {
  readonly replayed: number;
  /** Replays the hub accepted (the others were refused again, and are rejected records again). */
  readonly accepted: number;
}

export type BulkReplayQueue = Queue<BulkReplayRequest, BulkReplayResult, 'bulk-replay'>;

export function createBulkReplayQueue(connection: RedisClient, prefix: string): BulkReplayQueue {
  // One try: a bulk replay that stops part-way is asked for again; what it replayed is gone from the list.
  return createHubQueue(BULK_REPLAY_QUEUE, connection, prefix, { attempts: 1, keepCompletedDays: 7 });
}

/** Queues a bulk replay; returns its job id. */
export async function enqueueBulkReplay(queue: BulkReplayQueue, request: BulkReplayRequest): Promise<string> {
  const id = `bulk-replay.${randomUUID()}`;
  await queue.add('bulk-replay', request, { jobId: id });
  return id;
}

export interface BulkReplayDeps {
  readonly messages: Pick<MessageLog, 'find'>;
  readonly rejected: Pick<RejectedStore, 'get'>;
  readonly ingest: Pick<IngestService, 'replay'>;
  readonly logger: Logger;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Messages of the search read at most for one bulk replay. */
const MESSAGES_READ = 10_000;

export function createBulkReplayWorker(deps: BulkReplayDeps, on: WorkerConnection): Worker {
  return startHubWorker(
    BULK_REPLAY_QUEUE,
    (job: Job<BulkReplayRequest, BulkReplayResult>) => bulkReplay(deps, job.data),
    on,
    deps.logger,
    { concurrency: 1 },
  );
}

/** Replays the search's rejected records still kept, oldest message last (the search's order), paced. */
export async function bulkReplay(
  deps: BulkReplayDeps,
  request: BulkReplayRequest,
): Promise<BulkReplayResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let replayed = 0;
  let accepted = 0;
  let before: string | undefined;
  for (let read = 0; read < MESSAGES_READ && replayed < request.limit;) {
    const page = await deps.messages.find({ ...request.query, limit: 200, ...(before ? { before } : {}) });
    for (const rejection of await rejectionsOf(deps, page.items)) {
      if (replayed >= request.limit) {
        break;
      }
      if (replayed > 0) {
        await sleep(1000 / request.perSecond);
      }
      const report = await deps.ingest.replay(rejection);
      replayed += 1;
      accepted += report.records.some((r) => r.status === 'accepted' || r.status === 'applied') ? 1 : 0;
    }
    read += page.items.length;
    if (!page.next) {
      break;
    }
    before = page.next;
  }
  deps.logger.info({ by: request.by, replayed, accepted }, 'bulk replay done');
  return { replayed, accepted };
}

/**
 * The rejected records of these messages still kept: refused at the door (their rejection id) or
 * by the server (`write-<job id>`). Records held for an identity conflict wait for the review.
 */
async function rejectionsOf(
  deps: BulkReplayDeps,
  messages: ReadonlyArray<{ records: ReadonlyArray<{ rejectionId?: string; jobId?: string }> }>,
): Promise<StoredRejection[]> {
  const ids = messages.flatMap((m) =>
    m.records.flatMap((r) => (r.rejectionId ? [r.rejectionId] : r.jobId ? [`write-${r.jobId}`] : [])),
  );
  const found = await Promise.all([...new Set(ids)].map((id) => deps.rejected.get(id)));
  return found.filter((r): r is StoredRejection => r !== undefined && r.held !== 'identity');
}

/** Where a bulk replay stands: waiting, running, done with its counts, or failed with why. */
export async function bulkReplayStatus(
  queue: BulkReplayQueue,
  id: string,
): Promise<{ id: string; state: string; result?: BulkReplayResult; error?: string } | undefined> {
  if (!id.startsWith('bulk-replay.')) {
    return undefined;
  }
  // State first: BullMQ writes the result and the completed state in one script, so a job read
  // after its state was seen completed has its result (read the other way round, it may not).
  const state = await queue.getJobState(id);
  const job = await queue.getJob(id);
  if (!job) {
    return undefined;
  }
  return {
    id,
    state,
    ...(job.returnvalue ? { result: job.returnvalue } : {}),
    ...(job.failedReason ? { error: job.failedReason } : {}),
  };
}
