import type { Job, Queue, Worker } from 'bullmq';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { createHubQueue, startHubWorker } from '../queues/queue-factory.js';
import { HubError } from '../errors/hub-error.js';
import { toOperationOutcome } from '../errors/to-operation-outcome.js';
import type { Logger } from '../logging/logger.js';
import type { BatchStore, StoredBatch } from './batch-store.js';
import {
  reportToOutcome,
  statusOf,
  type IngestReport,
  type IngestService,
  type RecordResult,
} from './ingest-service.js';
import type { OperationOutcome } from 'fhir/r4.js';

/**
 * Batches sent with `Prefer: respond-async` (README, "Batches you can follow"): the request stores
 * the body and answers 202; a job of this queue parses it off the request and queues its records
 * as a synchronous call would. A job retried after a crash parses again: records are queued by
 * content-derived ids, so nothing is applied twice.
 */
export const BATCHES_QUEUE = 'ingest-batches';
export type BatchesQueue = Queue<{ readonly batchId: string }, void, 'parse-batch'>;

export function createBatchesQueue(connection: RedisClient, prefix: string): BatchesQueue {
  return createHubQueue(BATCHES_QUEUE, connection, prefix, { attempts: 12, keepCompletedDays: 1 });
}

export async function enqueueBatch(queue: BatchesQueue, batchId: string): Promise<void> {
  await queue.add('parse-batch', { batchId }, { jobId: `batch.${batchId}` });
}

export interface BatchDeps {
  readonly ingest: IngestService;
  readonly batches: BatchStore;
  readonly logger: Logger;
}

/** One batch parsed at a time per process: parsing is CPU work, the records' jobs do the rest. */
export function createBatchesWorker(deps: BatchDeps, on: WorkerConnection): Worker {
  return startHubWorker(
    BATCHES_QUEUE,
    (job: Job<{ batchId: string }>) => parseBatch(deps, job.data.batchId),
    on,
    deps.logger,
    {
      concurrency: 1,
    },
  );
}

async function parseBatch(deps: BatchDeps, batchId: string): Promise<void> {
  const batch = await deps.batches.get(batchId);
  const body = batch?.state === 'received' ? await deps.batches.body(batchId) : undefined;
  if (!batch || !body) {
    return; // parsed already (the job ran before a crash), or expired
  }
  try {
    const report = await deps.ingest.ingest(batch.partnerId, batch.format, body);
    await deps.batches.save({ ...batch, state: 'parsed', report });
  } catch (err) {
    // Refused whole, as the synchronous call would have answered (a 4xx): kept as its outcome.
    if (err instanceof HubError && err.status < 500) {
      await deps.batches.save({ ...batch, state: 'failed', failure: toOperationOutcome(err) });
      return;
    }
    throw err;
  }
}

/** Where a batch stands: counts while its records are applied, and the outcome once all are. */
export interface BatchStatus {
  readonly id: string;
  readonly partner: string;
  readonly format: string;
  readonly receivedAt: string;
  /** `queued`: not parsed yet; `processing`: records still queued; `done`: every record settled. */
  readonly status: 'queued' | 'processing' | 'done';
  readonly counts?: {
    readonly records: number;
    readonly accepted: number;
    readonly applied: number;
    readonly rejected: number;
    readonly skipped: number;
    readonly pending: number;
    /** Records whose job ran out of tries (dead letters an engineer can replay). */
    readonly failed: number;
  };
  /** Once done: the answer a synchronous call would have had, and its HTTP status. */
  readonly httpStatus?: number;
  readonly outcome?: OperationOutcome;
}

/**
 * A batch's status now. Each record still queued is looked up by its job; what has settled is
 * saved back, so a poll of a large batch reads only what may still change.
 */
export async function batchStatus(deps: BatchDeps, batch: StoredBatch): Promise<BatchStatus> {
  const about = {
    id: batch.id,
    partner: batch.partnerId,
    format: batch.format,
    receivedAt: batch.receivedAt,
  };
  if (batch.state === 'failed' && batch.failure) {
    return { ...about, status: 'done', httpStatus: batch.failure.status, outcome: batch.failure.outcome };
  }
  if (batch.state !== 'parsed' || !batch.report) {
    return { ...about, status: 'queued' };
  }
  let changed = false;
  let failed = 0;
  const records: RecordResult[] = [];
  for (const r of batch.report.records) {
    if (r.status !== 'accepted') {
      records.push(r);
      continue;
    }
    const state = await deps.ingest.recordState(r.jobId);
    if (state && state.result.status !== 'accepted') {
      changed = true;
      records.push({ ...state.result, ...(r.entries ? { entries: r.entries } : {}) });
    } else {
      failed += state?.failed ? 1 : 0;
      records.push(r);
    }
  }
  const report: IngestReport = { ...batch.report, records };
  if (changed) {
    await deps.batches.save({ ...batch, report });
  }
  const count = (status: RecordResult['status']): number => records.filter((r) => r.status === status).length;
  const pending = count('accepted') - failed;
  const counts = {
    records: records.length,
    accepted: records.filter(
      (r) => 'jobId' in r || (r.status === 'rejected' && r.rejectionId?.startsWith('write-')),
    ).length,
    applied: count('applied'),
    rejected: count('rejected'),
    skipped: count('skipped'),
    pending,
    failed,
  };
  return pending > 0
    ? { ...about, status: 'processing', counts }
    : { ...about, status: 'done', counts, httpStatus: statusOf(report), outcome: reportToOutcome(report) };
}
