import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import {
  applyCoordinationRules,
  checkObligation,
  checkSupportWindow,
  type AppliedRecord,
} from './apply-rules.js';
import type { CoordinationDeps, SupportWindowCheck } from './coordination-deps.js';

/**
 * The coordination rules' work: each record the hub wrote (its events and what it answers), each
 * obligation's due-time check, and each temporary support increase's window check.
 */
export const COORDINATION_QUEUE = 'coordination';

export type CoordinationJob =
  | { name: 'record-applied'; data: AppliedRecord }
  | { name: 'obligation-due'; data: { readonly taskId: string; readonly escalateAs: string } }
  | { name: 'support-window'; data: SupportWindowCheck };

export type CoordinationJobName = CoordinationJob['name'];
type JobData = CoordinationJob['data'];
export type CoordinationQueue = Queue<JobData, string, CoordinationJobName>;

const RETRY: RetryPolicy = { keepCompletedDays: 7 };

export function createCoordinationQueue(connection: RedisClient, prefix: string): CoordinationQueue {
  return createHubQueue(COORDINATION_QUEUE, connection, prefix, RETRY);
}

/** One job per written record: `key` (its Provenance) makes a redelivered record a no-op. */
export async function enqueueAppliedRecord(
  queue: CoordinationQueue,
  key: string,
  record: AppliedRecord,
): Promise<void> {
  await queue.add('record-applied', record, { jobId: `applied.${key.replace(/[/:]/g, '-')}` });
}

/** Delayed to the due time; one per Task (rescheduling the same Task is a no-op). */
export async function scheduleObligationCheck(
  queue: CoordinationQueue,
  taskId: string,
  due: Date,
  escalateAs: string,
  now: Date,
): Promise<void> {
  await queue.add(
    'obligation-due',
    { taskId, escalateAs },
    { jobId: `obligation-due.${taskId}`, delay: Math.max(0, due.getTime() - now.getTime()) },
  );
}

export async function scheduleSupportWindowCheck(
  queue: CoordinationQueue,
  check: SupportWindowCheck,
  reviewBy: Date,
  now: Date,
): Promise<void> {
  await queue.add('support-window', check, {
    jobId: `support-window.${check.communication.replace(/[/:]/g, '-')}`,
    delay: Math.max(0, reviewBy.getTime() - now.getTime()),
  });
}

export function processCoordinationJob(
  deps: CoordinationDeps,
): (job: Job<JobData, string>) => Promise<string> {
  return async (job) => {
    const { name, data } = job as unknown as CoordinationJob;
    switch (name) {
      case 'record-applied': {
        // What the record's transaction found is of its moment: a job tried again (later, after a
        // failure) searches anew.
        const { answered: _answered, ...record } = data;
        await applyCoordinationRules(deps, job.attemptsMade === 0 ? data : record);
        return 'applied';
      }
      case 'obligation-due':
        return checkObligation(deps, data.taskId, data.escalateAs);
      case 'support-window':
        return checkSupportWindow(deps, data);
    }
  };
}

export function createCoordinationWorker(
  deps: CoordinationDeps,
  on: WorkerConnection,
): Worker<JobData, string, CoordinationJobName> {
  return startHubWorker(COORDINATION_QUEUE, processCoordinationJob(deps), on, deps.logger, {
    concurrency: 4,
  });
}
