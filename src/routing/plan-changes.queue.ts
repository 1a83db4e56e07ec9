import { addOrRevive } from '../queues/add-or-revive.js';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import type { Consent, Task } from 'fhir/r4.js';
import { dueOf, isOpen } from '../coordination/obligations.js';
import { ackTaskEntries, openAckTasks, openedTasks, type DeliveryRequest } from './deliver-plan-change.js';
import { consentPermits } from '../security/part2.js';
import { capturePlanChange, type CapturedPlanChange } from './capture-plan-change.js';
import type { PlanRecordRequest, RoutingDeps } from './routing-deps.js';

/** New CarePlan versions waiting to be diffed, recorded and fanned out to partners. */
export const PLAN_CHANGES_QUEUE = 'plan-changes';
export type PlanChangeJobName = 'record-plan-change';

export interface PlanChangeJobData {
  readonly carePlanId: string;
  readonly version: string;
  /** The Provenance of the write that made the version, when it came through the hub. */
  readonly sourceProvenance?: string;
  /** How the hub saw the version: its own write, the FHIR server's rest-hook, or a catch-up scan. */
  readonly detectedBy: 'hub-write' | 'subscription' | 'catch-up';
  /** The participant, when the writer knows it (the capture reads it with the plan). */
  readonly patient?: string;
}

export interface PlanChangeJobResult {
  readonly notice: string;
  readonly recipients: readonly string[];
  readonly altersDelivery: boolean;
}

export type PlanChangesQueue = Queue<PlanChangeJobData, PlanChangeJobResult, PlanChangeJobName>;

/** Same backoff as ingest: about an hour of retries covers a FHIR server outage. */
const RETRY: RetryPolicy = { keepCompletedDays: 7 };

export function createPlanChangesQueue(connection: RedisClient, prefix: string): PlanChangesQueue {
  return createHubQueue(PLAN_CHANGES_QUEUE, connection, prefix, RETRY);
}

/**
 * How long the job of a version the FHIR server reported while the hub was writing that plan
 * waits for the hub's write to take it over with what it knows.
 */
export const WAIT_FOR_WRITER_MS = 2_000;

/**
 * One job per plan version, whoever saw it first: the job id is the plan and version, so the
 * hub's own write and the server's rest-hook for the same version make one job. A job queued to
 * wait `delayMs` (a notification of a plan the hub is writing) is given what the hub's write knows
 * when that write comes while it waits.
 */
export async function enqueuePlanChange(
  queue: PlanChangesQueue,
  data: PlanChangeJobData,
  { delayMs }: { delayMs?: number } = {},
): Promise<void> {
  // A version whose job failed for good is taken up again when a capture sees it again.
  const held = await addOrRevive(queue, 'record-plan-change', data, {
    jobId: planVersionJobId(data),
    ...(delayMs ? { delay: delayMs } : {}),
  });
  if (data.sourceProvenance && held && !held.data.sourceProvenance && (await held.isDelayed())) {
    await held.updateData(data);
    // Its wait may have ended in between: it then runs now, with this data.
    await held.promote().catch(() => undefined);
  }
}

/** The id of a plan version's jobs (its capture's, its record's): the plan and the version. */
function planVersionJobId({ carePlanId, version }: { carePlanId: string; version: string }): string {
  return `careplan.${carePlanId}.${version}`;
}

export function processPlanChangeJob(
  deps: RoutingDeps,
): (job: Job<PlanChangeJobData>) => Promise<PlanChangeJobResult> {
  return async (job) => {
    const { carePlanId, version } = job.data;
    const change = await capturePlanChange(deps, job.data);
    const reqs = deliveryRequests(change);
    // The deliveries go out as soon as the version is captured, built from what this job read
    // (the content cache); the Provenance, the notice and the acknowledgment Tasks follow in one
    // transaction, written by a job of the plan-records queue so that a slow write never holds
    // up the next version's capture. A partner that answers before its Task is written is waited
    // for (ackTaskFor); a retry of this job opens no Task twice and sends no version twice.
    const send = async (): Promise<void> => {
      await deps.content.put(carePlanId, version, {
        plan: change.plan,
        notice: change.notice,
        identifiers: change.identifiers,
      });
      await Promise.all(reqs.map((req) => deps.enqueueDelivery(req)));
    };
    if (change.part2) {
      // A Part 2 version's deliveries may open Tasks that point at its notice: recorded first.
      await recordPlanChange(deps, change);
      await send();
    } else {
      await send();
      await deps.enqueuePlanRecord({ ...job.data, recipients: change.recipients });
    }
    await deps.publishPlanChange?.(change.plan, version, change.patient);
    deps.logger.info({ carePlanId, version, recipients: change.recipients.length }, 'plan change recorded');
    return {
      notice: noticeOf(change),
      recipients: change.recipients,
      altersDelivery: change.diff.altersDelivery,
    };
  };
}

function noticeOf(change: CapturedPlanChange): string {
  return `Communication/${change.notice.id}`;
}

/** One delivery request per recipient of a captured change. */
function deliveryRequests(change: CapturedPlanChange): DeliveryRequest[] {
  return change.recipients.map((partnerId) => ({
    partnerId,
    carePlanId: change.carePlanId,
    version: change.version,
    notice: noticeOf(change),
    patient: change.patient,
    altersDelivery: change.diff.altersDelivery,
  }));
}

/**
 * What the hub records of a plan change: the Provenance, the notice and the acknowledgment Tasks.
 * A Part 2 version asks an acknowledgment only of recipients its Consents let it reach now; the
 * others are asked when their delivery goes out (see the deliveries queue).
 */
async function recordPlanChange(deps: RoutingDeps, change: CapturedPlanChange): Promise<void> {
  const now = deps.now();
  const reqs = deliveryRequests(change);
  const askNow = !change.diff.altersDelivery
    ? []
    : change.part2
      ? await permittedNow(deps, change.patient, reqs, now)
      : reqs;
  await writePlanChange(deps, change, askNow, now);
}

/** New plan versions whose deliveries went out, waiting for their Provenance, notice and Tasks. */
export const PLAN_RECORDS_QUEUE = 'plan-records';
export type PlanRecordJobName = 'write-plan-record';

/** The version as its plan-change job saw it, and the partners it was sent to. */
export type PlanRecordJobData = PlanRecordRequest;

export type PlanRecordsQueue = Queue<PlanRecordJobData, void, PlanRecordJobName>;

export function createPlanRecordsQueue(connection: RedisClient, prefix: string): PlanRecordsQueue {
  return createHubQueue(PLAN_RECORDS_QUEUE, connection, prefix, RETRY);
}

/** One record job per plan version (the id is the plan and version, as its plan-change job's). */
export async function enqueuePlanRecord(queue: PlanRecordsQueue, data: PlanRecordJobData): Promise<void> {
  await addOrRevive(queue, 'write-plan-record', data, { jobId: planVersionJobId(data) });
}

/**
 * Writes a plan version's record: captured again (from what the plan-change job left in Redis,
 * so usually without reading the FHIR server), naming the partners the deliveries went to.
 */
export function processPlanRecordJob(deps: RoutingDeps): (job: Job<PlanRecordJobData>) => Promise<void> {
  return async (job) => recordPlanChange(deps, await capturePlanChange(deps, job.data));
}

export function createPlanRecordsWorker(
  deps: RoutingDeps,
  on: WorkerConnection,
  concurrency: number,
): Worker<PlanRecordJobData, void, PlanRecordJobName> {
  return startHubWorker(PLAN_RECORDS_QUEUE, processPlanRecordJob(deps), on, deps.logger, { concurrency });
}

/**
 * Writes what the hub records of a plan change in one transaction: the Provenance, the notice and
 * the acknowledgment Tasks of `askNow`; then schedules the Tasks' deadlines. Every entry is keyed
 * (ids derived from plan and version, Tasks created only when new), so writing it again is a no-op.
 */
async function writePlanChange(
  deps: RoutingDeps,
  change: CapturedPlanChange,
  askNow: readonly DeliveryRequest[],
  now: Date,
): Promise<void> {
  const tasks = ackTaskEntries(deps.identifierBase, askNow, now, dueAfter(deps, now), change.part2);
  const response = await deps.fhir.transaction({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: change.provenance, request: { method: 'PUT', url: `Provenance/${change.provenance.id}` } },
      { resource: change.notice, request: { method: 'PUT', url: `Communication/${change.notice.id}` } },
      ...tasks,
    ],
  });
  await scheduleDeadlines(deps, openedTasks(tasks, response, 2), now);
}

/** The due time of a partner's acknowledgment: its file's window from `now` (24 hours unless set). */
function dueAfter(deps: RoutingDeps, now: Date): (partnerId: string) => Date {
  return (partnerId) =>
    new Date(now.getTime() + (deps.partners.get(partnerId)?.outbound?.ackWithinHours ?? 24) * 3600_000);
}

/**
 * Opens the acknowledgment Tasks of `reqs` (one transaction) and schedules their deadlines. With
 * `restartWindow` (a version released from withholding, which reaches the partner only now), a
 * Task already open gets its due time moved to a full window from `now`.
 */
export async function openAckTasksWithDeadlines(
  deps: RoutingDeps,
  reqs: readonly DeliveryRequest[],
  now: Date,
  part2: boolean,
  opts: { restartWindow?: boolean } = {},
): Promise<void> {
  const tasks = await openAckTasks(deps.fhir, deps.identifierBase, reqs, now, dueAfter(deps, now), part2);
  await scheduleDeadlines(deps, tasks, now, opts);
}

async function scheduleDeadlines(
  deps: RoutingDeps,
  tasks: readonly Task[],
  now: Date,
  opts: { restartWindow?: boolean } = {},
): Promise<void> {
  await Promise.all(
    tasks.map(async (task) => {
      const due = new Date(task.restriction?.period?.end ?? now);
      if (opts.restartWindow) {
        await moveDueLater(deps, task.id!, due);
      }
      await deps.scheduleAckDeadline(task.id!, due);
    }),
  );
}

/** Moves an open Task's due time to `due` when it is earlier (a conditional update: no lost write). */
async function moveDueLater(deps: RoutingDeps, taskId: string, due: Date): Promise<void> {
  const task = await deps.fhir.read<Task>('Task', taskId);
  if (!isOpen(task) || (dueOf(task)?.getTime() ?? 0) >= due.getTime()) {
    return;
  }
  await deps.fhir.update<Task>(
    {
      ...task,
      restriction: { ...task.restriction, period: { ...task.restriction?.period, end: due.toISOString() } },
    },
    { ifMatch: task.meta?.versionId ?? '' },
  );
}

/** The requests whose partner an active Consent of the participant lets Part 2 data reach at `now`. */
async function permittedNow(
  deps: RoutingDeps,
  patient: string,
  reqs: readonly DeliveryRequest[],
  now: Date,
): Promise<DeliveryRequest[]> {
  const consents = await deps.fhir.search<Consent>('Consent', { patient, status: 'active' });
  return reqs.filter((req) => consentPermits(consents, req.partnerId, now));
}

export function createPlanChangesWorker(
  deps: RoutingDeps,
  on: WorkerConnection,
  concurrency: number,
): Worker<PlanChangeJobData, PlanChangeJobResult, PlanChangeJobName> {
  return startHubWorker(PLAN_CHANGES_QUEUE, processPlanChangeJob(deps), on, deps.logger, { concurrency });
}
