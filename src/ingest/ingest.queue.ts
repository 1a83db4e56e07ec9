import { addOrRevive } from '../queues/add-or-revive.js';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, QueueEvents, UnrecoverableError, type Worker, type Job } from 'bullmq';
import { createHubQueue, queueKeyPrefix, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { createHash } from 'node:crypto';
import type { FieldIssue } from '../adapters/types.js';
import type { PartnerRegistry } from '../config/partners.js';
import { labelPart2 } from '../security/part2.js';
import { boundaryContext, withinWriteBoundary } from '../security/write-boundary.js';
import { HubError } from '../errors/hub-error.js';
import { FhirServerError } from '../fhir/fhir-errors.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { FormatHandlers } from './formats.js';
import type { RejectedStore } from './rejected-store.js';
import type { IdentityLock } from './identity-lock.js';
import type { MessageLog } from './message-log.js';
import { ParticipantConflictError } from './participant-resolver.js';
import { asNewParticipant, type IdentityDecision } from './identity-review.js';
import { writeMappedRecord, type WriteOutcome } from './write-mapped-record.js';
import type { Logger } from '../logging/logger.js';
import { guardInbound, type GuardDeps } from '../coordination/inbound-guard.js';
import { onRecordApplied, type OnAppliedDeps } from '../routing/on-record-applied.js';
import { searchesAfterWrite } from '../coordination/rules-searches.js';

/** Queue of accepted inbound records waiting to be mapped and written to the FHIR server. */
export const INGEST_QUEUE = 'ingest';
export type IngestJobName = 'apply-record';

/** One accepted record. It holds the parsed record itself: it must survive until it is applied. */
export interface IngestJobData {
  readonly partnerId: string;
  readonly format: string;
  readonly sourceId: string;
  readonly location: string;
  readonly receivedAt: string;
  readonly record: unknown;
  /** The record as received, kept for the rejected list should the server refuse it. */
  readonly raw?: string;
  /** An engineer's decision on the identity conflict that held the record (a replay from the review). */
  readonly identity?: IdentityDecision;
}

export type IngestJobResult = WriteOutcome;
export type IngestQueue = Queue<IngestJobData, IngestJobResult, IngestJobName>;

/**
 * `attempts` (INGEST_ATTEMPTS, 12 by default) with exponential backoff from 1 s (with jitter): 12
 * span about 68 minutes, enough to ride out a FHIR server restart or a short outage. A job that
 * still fails stays in the failed set (the dead letters), from which it can be listed and
 * replayed, and a resend of the record takes it up again; it is never removed automatically.
 * Completed jobs are kept a day so a resubmitted identical record is recognised by its job id.
 */
export function createIngestQueue(connection: RedisClient, prefix: string, attempts?: number): IngestQueue {
  const retry: RetryPolicy = { attempts, keepCompletedDays: 1, keepCompletedCount: 50000 };
  const queue: IngestQueue = createHubQueue(INGEST_QUEUE, connection, prefix, retry);
  // A caller waiting for a batch (`?wait=`) waits for all its records at once, and each wait holds
  // a 'closing' listener on the queue until it ends (BullMQ's waitUntilFinished): no cap, so a large
  // batch does not log a false "memory leak" warning.
  queue.setMaxListeners(0);
  return queue;
}

/** Completion events of ingest jobs, for callers that wait for their records (`?wait=`). */
export type IngestQueueEvents = QueueEvents;

export function createIngestQueueEvents(
  connection: RedisClient,
  prefix: string,
  autorun = true,
): IngestQueueEvents {
  return new QueueEvents(INGEST_QUEUE, {
    connection,
    prefix: queueKeyPrefix(prefix, INGEST_QUEUE, connection.isCluster),
    autorun,
  });
}

/**
 * The job id is derived from partner, format, source id and content: the same record sent twice
 * while the first is still known to the queue is not applied twice (and writes are idempotent
 * anyway). BullMQ ids may not contain ':'.
 */
export function ingestJobId(
  data: Pick<IngestJobData, 'partnerId' | 'format' | 'sourceId' | 'record'>,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([data.partnerId, data.format, data.sourceId, data.record]))
    .digest('hex')
    .slice(0, 32);
  return `${data.partnerId}.${data.format}.${digest}`;
}

export async function enqueueIngest(
  queue: IngestQueue,
  data: IngestJobData,
  jobId: string = ingestJobId(data),
): Promise<string> {
  await addOrRevive(queue, 'apply-record', data, { jobId });
  return jobId;
}

/** What applying a record needs. */
export interface IngestDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly formats: FormatHandlers;
  readonly rejected: RejectedStore;
  readonly identifierBase: string;
  readonly logger: Logger;
  /**
   * What the coordination guard reads to check a mapped record before it is written (decision
   * rights, plan change control); it refuses a record with a HubError (4xx).
   */
  readonly guard?: GuardDeps;
  /** Serialises the creation of a new participant across hub processes (see ingest/identity-lock.ts). */
  readonly identityLock?: IdentityLock;
  /** What follows a record on the FHIR server: plan-change routing, acknowledgments, coordination rules. */
  readonly afterWrite?: OnAppliedDeps;
  /** The message log: what a record wrote becomes a key its message is found by. */
  readonly messages?: MessageLog;
}

/**
 * The steps after a record is on the FHIR server. Whatever fails there, the record was accepted:
 * it is never reported as rejected (a replay would only write it again). A failure no retry can
 * mend makes the job a dead letter at once, for an engineer to look at; anything else is retried.
 */
async function afterTheWrite(steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (err) {
    if (isPermanent(err)) {
      throw new UnrecoverableError(`written, but a step after the write failed: ${(err as Error).message}`);
    }
    throw err;
  }
}

/**
 * Maps and writes one record. A record the server refuses (4xx: invalid against the profiles, or
 * a participant conflict) is permanent: it goes to the rejected list with the server's reasons
 * and the job stops. Anything else (server down, 5xx) is thrown, so BullMQ retries it.
 */
export function processIngestJob(
  deps: IngestDeps,
): (job: Job<IngestJobData, IngestJobResult>) => Promise<IngestJobResult> {
  return async (job) => {
    const data = job.data;
    const partner = deps.partners.get(data.partnerId);
    const handler = deps.formats[data.format as keyof FormatHandlers];
    try {
      if (!partner || !handler) {
        throw new HubError(
          'INGEST.UNKNOWN',
          `No partner ${data.partnerId} or no handler for ${data.format}`,
          { status: 422 },
        );
      }
      const record = withinWriteBoundary(
        boundaryContext(partner, data.format, deps.partners, deps.identifierBase),
        handler.map(data.record, { partner, identifierBase: deps.identifierBase }),
        data.location,
      );
      const labelled = partner.inbound.part2Program ? labelPart2(record) : record;
      const mapped =
        data.identity?.kind === 'different'
          ? await asNewParticipant(deps.fhir, deps.identifierBase, labelled, data.identity.corrected)
          : labelled;
      const beforeWrite = deps.guard ? await guardInbound(deps.guard, partner, mapped, data) : undefined;
      await deps.afterWrite?.content?.markBeingWritten(
        mapped.writes.flatMap((w) =>
          w.resource.resourceType === 'CarePlan' ? (w.resource.identifier ?? []) : [],
        ),
      );
      const outcome = await writeMappedRecord(
        deps.fhir,
        mapped,
        partner.mappingVersion ? { ...data, mappingVersion: partner.mappingVersion } : data,
        deps.identifierBase,
        {
          ...(beforeWrite ? { beforeWrite } : {}),
          ...(deps.identityLock ? { identityLock: deps.identityLock } : {}),
          ...(data.identity?.kind === 'same' ? { adoptInto: data.identity.patientId } : {}),
          ...(deps.afterWrite ? { searchesAfterWrite } : {}),
        },
      );
      if (deps.afterWrite) {
        const sent = new Map(
          mapped.writes.flatMap((w) => {
            const ref = outcome.written[w.fullUrl];
            return ref ? [[ref, w.resource] as const] : [];
          }),
        );
        await afterTheWrite(() => onRecordApplied(deps.afterWrite!, outcome, data.partnerId, sent));
      }
      await deps.messages
        ?.addKeys(String(job.id), [outcome.patient, ...Object.values(outcome.written)])
        .catch((err: unknown) =>
          deps.logger.warn({ jobId: job.id, error: (err as Error).message }, 'keys not logged'),
        );
      // The job's result stays small in Redis: what was handed to routing is not kept with it.
      const {
        stored: _stored,
        participantIdentifiers: _identifiers,
        answered: _answered,
        ...result
      } = outcome;
      return result;
    } catch (err) {
      if (!isPermanent(err)) {
        throw err;
      }
      await deps.rejected.add(
        {
          partnerId: data.partnerId,
          format: data.format,
          location: data.location,
          sourceId: data.sourceId,
          issues: issuesOf(err),
          raw: data.raw,
          record: data.record,
          stage: 'write',
          ...(err instanceof ParticipantConflictError ? { held: 'identity' as const } : {}),
          rejectedAt: new Date().toISOString(),
        },
        `write-${job.id}`,
      );
      deps.logger.warn(
        { jobId: job.id, partnerId: data.partnerId, code: (err as HubError).code },
        'record refused',
      );
      throw new UnrecoverableError((err as Error).message);
    }
  };
}

function isPermanent(err: unknown): boolean {
  if (err instanceof FhirServerError) {
    return !err.transient && err.httpStatus !== 409 && err.httpStatus !== 412;
  }
  return err instanceof HubError && err.status < 500;
}

function issuesOf(err: unknown): FieldIssue[] {
  if (err instanceof HubError) {
    return err.issues
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => ({
        field: i.expression?.join(', ') ?? i.location?.join(', ') ?? '(record)',
        message: i.diagnostics ?? i.code,
      }));
  }
  return [{ field: '(record)', message: (err as Error).message }];
}

export type IngestWorker = Worker<IngestJobData, IngestJobResult, IngestJobName>;

export function createIngestWorker(
  deps: IngestDeps,
  on: WorkerConnection,
  concurrency: number,
): IngestWorker {
  return startHubWorker(INGEST_QUEUE, processIngestJob(deps), on, deps.logger, { concurrency });
}
