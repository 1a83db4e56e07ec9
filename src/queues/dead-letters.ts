import type { Queue } from 'bullmq';

/** A job that failed for good: a delivery the partner refused, or one that ran out of attempts. */
export interface DeadLetter {
  readonly queue: string;
  readonly jobId: string;
  readonly name: string;
  readonly failedReason: string;
  readonly attemptsMade: number;
  readonly failedAt?: string;
  /** The job's payload (references and ids; ingest jobs hold the record as received). */
  readonly data: unknown;
  /** What each attempt logged (partner answers, failure kinds). */
  readonly logs?: readonly string[];
}

/** Dead letters of the given queues, newest first. */
export async function listDeadLetters(queues: readonly Queue[], limit = 200): Promise<DeadLetter[]> {
  const all = await Promise.all(
    queues.map(async (q) =>
      (await q.getFailed(0, limit - 1)).map((job): DeadLetter => ({
        queue: q.name,
        jobId: job.id ?? '',
        name: job.name,
        failedReason: job.failedReason,
        attemptsMade: job.attemptsMade,
        ...(job.finishedOn ? { failedAt: new Date(job.finishedOn).toISOString() } : {}),
        data: job.data as unknown,
      })),
    ),
  );
  return all
    .flat()
    .sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''))
    .slice(0, limit);
}

/** One dead letter with its logs; undefined when the job does not exist or has not failed. */
export async function getDeadLetter(queue: Queue, jobId: string): Promise<DeadLetter | undefined> {
  const job = await queue.getJob(jobId);
  if (!job || !(await job.isFailed())) {
    return undefined;
  }
  const { logs } = await queue.getJobLogs(jobId);
  return {
    queue: queue.name,
    jobId,
    name: job.name,
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    ...(job.finishedOn ? { failedAt: new Date(job.finishedOn).toISOString() } : {}),
    data: job.data as unknown,
    logs,
  };
}

/**
 * Puts a dead letter back in its queue with fresh attempts. Deliveries keep their message id, so a
 * replay the partner already received is de-duplicated there, and one that an newer version has
 * overtaken is marked superseded instead of being sent.
 * @returns false when there is no such failed job
 */
export async function replayDeadLetter(queue: Queue, jobId: string): Promise<boolean> {
  const job = await queue.getJob(jobId);
  if (!job || !(await job.isFailed())) {
    return false;
  }
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}
