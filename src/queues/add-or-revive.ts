import type { JobsOptions, Queue } from 'bullmq';

/**
 * Adds a job under its stable id, or takes up again the one that failed under it. BullMQ ignores
 * an `add` for an id it holds in any state, so a record whose job ran out of retries (a FHIR
 * outage longer than the retry budget) or was refused would swallow every resend and every
 * catch-up capture, answered "accepted" for ever. A failed job is retried instead (its stored
 * data, run again from the first attempt); a waiting, running or completed one is left alone.
 * Answers the job held under the id, for a caller that looks at it further.
 */
export async function addOrRevive<D, R, N extends string>(
  queue: Queue<D, R, N>,
  name: Parameters<Queue<D, R, N>['add']>[0],
  data: Parameters<Queue<D, R, N>['add']>[1],
  opts: JobsOptions & { jobId: string },
): ReturnType<Queue<D, R, N>['getJob']> {
  await queue.add(name, data, opts);
  const job = await queue.getJob(opts.jobId);
  if (job && (await job.isFailed())) {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }
  return job;
}
