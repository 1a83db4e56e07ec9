import type { Job, Queue, Worker } from 'bullmq';
import type { RedisClient, WorkerConnection } from './connection.js';
import type { Logger } from '../logging/logger.js';
import { createHubQueue, startHubWorker } from './queue-factory.js';

/**
 * The hub's periodic work (the history catch-up, the acknowledgment sweep, the Task feed): each a
 * BullMQ job scheduler, so it runs once per deployment however many replicas there are, on
 * whichever worker is free, rather than once per process on a timer of its own.
 */
export const MAINTENANCE_QUEUE = 'maintenance';

export type MaintenanceQueue = Queue<Record<string, never>, void, string>;

/** A periodic task: how often, and what it does (it logs its own failures; a run never fails). */
export interface PeriodicTask {
  readonly everyMs: number;
  readonly run: () => Promise<unknown>;
}

export function createMaintenanceQueue(connection: RedisClient, prefix: string): MaintenanceQueue {
  // One try: the next run is the retry.
  return createHubQueue(MAINTENANCE_QUEUE, connection, prefix, { attempts: 1, keepCompletedDays: 1 });
}

/** Schedules each task (idempotent: a replica starting again replaces the same schedulers). */
export async function scheduleTasks(
  queue: MaintenanceQueue,
  tasks: Readonly<Record<string, PeriodicTask>>,
): Promise<void> {
  for (const [name, task] of Object.entries(tasks)) {
    await queue.upsertJobScheduler(
      name,
      { every: task.everyMs },
      { name, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }
}

export function createMaintenanceWorker(
  tasks: Readonly<Record<string, PeriodicTask>>,
  on: WorkerConnection,
  logger: Logger,
): Worker {
  return startHubWorker(
    MAINTENANCE_QUEUE,
    async (job: Job) => {
      await tasks[job.name]?.run();
    },
    on,
    logger,
    { concurrency: Object.keys(tasks).length },
  );
}
