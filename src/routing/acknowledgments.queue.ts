import type { WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import type { Task } from 'fhir/r4.js';
import type { Redis } from 'ioredis';
import { isOpen } from '../coordination/obligations.js';
import type { RoutingDeps } from './routing-deps.js';

/** Acknowledgment deadlines: one delayed job per acknowledgment Task, fired at its due time. */
export const ACKNOWLEDGMENTS_QUEUE = 'acknowledgments';
export type AckJobName = 'ack-deadline';

export interface AckDeadlineJobData {
  readonly taskId: string;
}

export interface AckDeadlineJobResult {
  readonly status: 'acknowledged' | 'escalated';
}

export type AcknowledgmentsQueue = Queue<AckDeadlineJobData, AckDeadlineJobResult, AckJobName>;

const RETRY: RetryPolicy = { keepCompletedDays: 30 };

export function createAcknowledgmentsQueue(connection: Redis, prefix: string): AcknowledgmentsQueue {
  return createHubQueue(ACKNOWLEDGMENTS_QUEUE, connection, prefix, RETRY);
}

/**
 * Schedules the deadline check of an acknowledgment Task. BullMQ's delay is measured against the
 * producer's clock and fired by the worker's: hub hosts must keep their clocks in sync (NTP).
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
    { jobId: `ack-deadline.${taskId}`, delay: Math.max(0, dueAt.getTime() - now.getTime()) },
  );
}

/** At the due time: an acknowledgment still open is escalated (missed-acknowledgment trigger). */
export function processAckDeadlineJob(
  deps: RoutingDeps,
): (job: Job<AckDeadlineJobData>) => Promise<AckDeadlineJobResult> {
  return async (job) => {
    const task = await deps.fhir.read<Task>('Task', job.data.taskId);
    if (!isOpen(task)) {
      return { status: 'acknowledged' };
    }
    await deps.enqueueEscalation({
      trigger: 'missed-acknowledgment',
      patient: task.for?.reference ?? '',
      focus: `Task/${task.id}`,
      detail: `${task.owner?.display ?? task.owner?.reference ?? 'A partner'} has not acknowledged ${task.focus?.reference ?? 'a plan change'} (due ${task.restriction?.period?.end ?? 'unknown'})`,
      at: deps.now(),
    });
    return { status: 'escalated' };
  };
}

export function createAcknowledgmentsWorker(
  deps: RoutingDeps,
  on: WorkerConnection,
): Worker<AckDeadlineJobData, AckDeadlineJobResult, AckJobName> {
  return startHubWorker(ACKNOWLEDGMENTS_QUEUE, processAckDeadlineJob(deps), on, deps.logger, {
    concurrency: 4,
  });
}
