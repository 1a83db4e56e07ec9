import type { Queue } from 'bullmq';

/** What the alerts watch of a queue: jobs waiting or retrying, the oldest waiting, dead letters. */
export interface QueueBacklog {
  readonly queue: string;
  readonly backlog: number;
  readonly oldestWaitingMs?: number;
  readonly failed: number;
}

/** A queue's backlog now (`now` in ms). */
export async function backlogOf(queue: Queue, now: number): Promise<QueueBacklog> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'failed');
  // Oldest first: the job that has waited longest to run.
  const [oldest] = await queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
  return {
    queue: queue.name,
    backlog: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    ...(oldest ? { oldestWaitingMs: Math.max(0, now - oldest.timestamp) } : {}),
    failed: counts.failed ?? 0,
  };
}
