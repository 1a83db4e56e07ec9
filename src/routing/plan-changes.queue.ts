import { addOrRevive } from '../queues/add-or-revive.js';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import type { Consent, Task } from 'fhir/r4.js';
import { dueOf, isOpen } from '../coordination/obligations.js';
import { openAckTasks, type DeliveryRequest } from './deliver-plan-change.js';
import { consentPermits } from '../security/part2.js';
import { recordPlanChange } from './record-plan-change.js';
import type { RoutingDeps } from './routing-deps.js';

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
 * One job per plan version, whoever saw it first: the job id is the plan and version, so the
 * hub's own write and the server's rest-hook for the same version make one job.
 */
export async function enqueuePlanChange(queue: PlanChangesQueue, data: PlanChangeJobData): Promise<void> {
  // A version whose job failed for good is taken up again when a capture sees it again.
  await addOrRevive(queue, 'record-plan-change', data, {
    jobId: `careplan.${data.carePlanId}.${data.version}`,
  });
}

export function processPlanChangeJob(
  deps: RoutingDeps,
): (job: Job<PlanChangeJobData>) => Promise<PlanChangeJobResult> {
  return async (job) => {
    const { carePlanId, version, sourceProvenance } = job.data;
    const change = await recordPlanChange(
      deps.fhir,
      deps.partners,
      deps.identifierBase,
      carePlanId,
      version,
      sourceProvenance,
    );
    const now = deps.now();
    const reqs = change.recipients.map((partnerId) => ({
      partnerId,
      carePlanId,
      version,
      notice: change.notice,
      patient: change.patient,
      altersDelivery: change.diff.altersDelivery,
    }));
    // The deliveries go out first: a push waits for nothing but the notice it carries. The
    // acknowledgment Tasks follow in this job (one FHIR transaction for every recipient), so a
    // partner whose endpoint is down can still pull its pending work, and the deadline runs
    // anyway; a partner that answers before its Task is written is waited for (ackTaskFor). A
    // retry of this job opens no Task twice and sends no version twice.
    // A Part 2 version asks an acknowledgment only of recipients its Consents let it reach now;
    // the others are asked when a Consent releases the delivery (see the deliveries queue).
    await Promise.all(reqs.map((req) => deps.enqueueDelivery(req)));
    if (change.diff.altersDelivery) {
      const askNow = change.part2 ? await permittedNow(deps, change.patient, reqs, now) : reqs;
      await openAckTasksWithDeadlines(deps, askNow, now, change.part2);
    }
    await deps.publishPlanChange?.(change.plan, version, change.patient);
    deps.logger.info({ carePlanId, version, recipients: change.recipients.length }, 'plan change recorded');
    return {
      notice: change.notice,
      recipients: change.recipients,
      altersDelivery: change.diff.altersDelivery,
    };
  };
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
  const hours = (partnerId: string): number => deps.partners.get(partnerId)?.outbound?.ackWithinHours ?? 24;
  const tasks = await openAckTasks(
    deps.fhir,
    deps.identifierBase,
    reqs,
    now,
    (partnerId) => new Date(now.getTime() + hours(partnerId) * 3600_000),
    part2,
  );
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
