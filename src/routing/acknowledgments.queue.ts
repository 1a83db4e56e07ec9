import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { holdJob } from '../queues/lease.js';
import type { Task } from 'fhir/r4.js';
import { dueOf, isOpen } from '../coordination/obligations.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { ackTaskSubject } from './acknowledge.js';
import type { RoutingDeps } from './routing-deps.js';

/** Acknowledgment deadlines: one delayed job per acknowledgment Task, fired at its due time. */
export const ACKNOWLEDGMENTS_QUEUE = 'acknowledgments';
export type AckJobName = 'ack-deadline';

export interface AckDeadlineJobData {
  readonly taskId: string;
}

export interface AckDeadlineJobResult {
  readonly status: 'acknowledged' | 'escalated' | 'not-delivered';
}

export type AcknowledgmentsQueue = Queue<AckDeadlineJobData, AckDeadlineJobResult, AckJobName>;

const RETRY: RetryPolicy = { keepCompletedDays: 30 };

export function createAcknowledgmentsQueue(connection: RedisClient, prefix: string): AcknowledgmentsQueue {
  return createHubQueue(ACKNOWLEDGMENTS_QUEUE, connection, prefix, RETRY);
}

/**
 * Schedules the deadline check of an acknowledgment Task. One job per Task and due time: a due time
 * moved later (a version released from withholding) gets a job of its own even when the first one
 * has finished; a job that fires early finds the later due time on the Task and waits again.
 * BullMQ's delay is measured against the producer's clock and fired by the worker's: hub hosts
 * must keep their clocks in sync (NTP).
 */
export async function scheduleAckDeadline(
  queue: AcknowledgmentsQueue,
  taskId: string,
  dueAt: Date,
  now: Date,
): Promise<void> {
  await queue.add(
    'ack-deadline',
    { taskId },
    {
      jobId: `ack-deadline.${taskId}.${dueAt.getTime()}`,
      delay: Math.max(0, dueAt.getTime() - now.getTime()),
    },
  );
}

/** How a delivery ended when its partner was never sent the version: nothing to acknowledge. */
const NOT_DELIVERED: ReadonlySet<string> = new Set(['superseded', 'withheld', 'failed']);

/**
 * At the due time: an acknowledgment still open is escalated (missed-acknowledgment trigger), as
 * of its due time, however late the job runs. The Task is read as it is now: a due time moved
 * later waits again; a version the partner never received (superseded by a newer one, withheld
 * for want of consent, dead-lettered) is not the partner's to acknowledge.
 */
export function processAckDeadlineJob(
  deps: RoutingDeps,
): (job: Job<AckDeadlineJobData>, token?: string) => Promise<AckDeadlineJobResult> {
  return async (job, token) => {
    const task = await deps.fhir.read<Task>('Task', job.data.taskId);
    if (!isOpen(task)) {
      return { status: 'acknowledged' };
    }
    const due = dueOf(task);
    if (due && due.getTime() > deps.now().getTime()) {
      return holdJob(job, due.getTime(), token);
    }
    const about = ackTaskSubject(task);
    if (about) {
      const delivery = (await deps.status.list(about.carePlanId, about.version)).find(
        (s) => s.partnerId === about.partnerId,
      );
      if (delivery && NOT_DELIVERED.has(delivery.state)) {
        return { status: 'not-delivered' };
      }
    }
    await deps.enqueueEscalation({
      trigger: 'missed-acknowledgment',
      patient: task.for?.reference ?? '',
      focus: `Task/${task.id}`,
      detail: `${task.owner?.display ?? task.owner?.reference ?? 'A partner'} has not acknowledged ${task.focus?.reference ?? 'a plan change'} (due ${task.restriction?.period?.end ?? 'unknown'})`,
      at: due ?? deps.now(),
    });
    return { status: 'escalated' };
  };
}

/**
 * The reconciliation sweep: every open acknowledgment Task gets its deadline job again. Job ids
 * are the Task's and its due time, so a job still there is left alone and a lost one (Redis restored from an
 * older snapshot, a flushed key) is recreated; a past due time fires at once.
 * @returns how many open acknowledgments were looked at
 */
export async function sweepAckDeadlines(
  deps: Pick<RoutingDeps, 'fhir' | 'scheduleAckDeadline'>,
): Promise<number> {
  const open = await deps.fhir.search<Task>(
    'Task',
    {
      code: `${CODE_SYSTEM.taskCode}|acknowledge-plan-change`,
      status: 'requested,received,accepted,in-progress',
    },
    Number.POSITIVE_INFINITY,
  );
  for (const task of open) {
    const due = dueOf(task);
    if (task.id && due) {
      await deps.scheduleAckDeadline(task.id, due);
    }
  }
  return open.length;
}

export function createAcknowledgmentsWorker(
  deps: RoutingDeps,
  on: WorkerConnection,
): Worker<AckDeadlineJobData, AckDeadlineJobResult, AckJobName> {
  return startHubWorker(ACKNOWLEDGMENTS_QUEUE, processAckDeadlineJob(deps), on, deps.logger, {
    concurrency: 4,
  });
}
