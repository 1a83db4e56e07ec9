import {
  Queue,
  UnrecoverableError,
  Worker,
  type JobsOptions,
  type Processor,
  type WorkerOptions,
} from 'bullmq';
import { keyPrefixOf, type RedisClient, type WorkerConnection } from './connection.js';
import type { Logger } from '../logging/logger.js';
import { BullMQOtel } from 'bullmq-otel';
import { TRACER_NAME, tracingOn } from '../tracing/tracing.js';

const DAY_S = 24 * 3600;

/** Any of the hub's queues, for code that lists or inspects them all (dashboards, dead letters). */
export type AnyQueue = Queue;

/** How a queue keeps and retries its jobs. */
export interface RetryPolicy {
  /** Tries before the job is a dead letter (12 by default: about 68 minutes at 1 s doubling). */
  readonly attempts?: number;
  /** The first backoff; each later one doubles, with jitter so retries of many jobs spread out. */
  readonly firstBackoffMs?: number;
  /** How long a completed job's id is remembered (a resend within it is recognised). */
  readonly keepCompletedDays: number;
  readonly keepCompletedCount?: number;
}

/**
 * The hub's one retry policy: exponential backoff with jitter, and failed jobs kept for good, so
 * every job that runs out of attempts is a dead letter an engineer can see and replay.
 */
export function jobOptions(policy: RetryPolicy): JobsOptions {
  return {
    attempts: policy.attempts ?? 12,
    backoff: backoffFrom(policy.firstBackoffMs ?? 1000),
    removeOnComplete: {
      age: policy.keepCompletedDays * DAY_S,
      ...(policy.keepCompletedCount ? { count: policy.keepCompletedCount } : {}),
    },
    removeOnFail: false,
  };
}

/** Exponential backoff from `firstMs`, with jitter so the retries of many jobs spread out. */
export function backoffFrom(firstMs: number): NonNullable<JobsOptions['backoff']> {
  return { type: 'exponential', delay: firstMs, jitter: 0.5 };
}

/** The key prefix of one queue: a hash tag of its own on a cluster ({@link keyPrefixOf}). */
export function queueKeyPrefix(prefix: string, name: string, cluster: boolean): string {
  return keyPrefixOf(prefix, name, cluster);
}

/** A queue of the hub, under its Redis prefix, with the given retry policy. */
export function createHubQueue<Data, Result, Name extends string>(
  name: string,
  connection: RedisClient,
  prefix: string,
  policy: RetryPolicy,
): Queue<Data, Result, Name> {
  return new Queue<Data, Result, Name>(name, {
    connection,
    prefix: queueKeyPrefix(prefix, name, connection.isCluster),
    defaultJobOptions: jobOptions(policy),
    ...telemetry(),
  });
}

/**
 * A worker of the hub: the shared lock and stall settings, the given concurrency (and limiter),
 * and its errors logged rather than thrown into the event loop.
 */
export function startHubWorker<Data, Result, Name extends string>(
  name: string,
  processor: Processor<Data, Result, NoInfer<Name>>,
  on: WorkerConnection,
  logger: Logger,
  options: Pick<WorkerOptions, 'concurrency' | 'limiter'> & { readonly log?: Record<string, unknown> },
): Worker<Data, Result, Name> {
  const { log, ...settings } = options;
  const { observer, ...connection } = on;
  const worker = new Worker<Data, Result, Name>(name, processor, {
    ...connection,
    prefix: queueKeyPrefix(connection.prefix, name, connection.connection.isCluster),
    ...settings,
    ...telemetry(),
  });
  worker.on('error', (err) => logger.error({ queue: name, ...log, error: err.message }, 'worker error'));
  // Its worker died or stopped renewing the lock (a blocked event loop): the job runs again.
  worker.on('stalled', (jobId) => logger.warn({ queue: name, ...log, jobId }, 'job stalled; taken up again'));
  if (observer) {
    worker.on('completed', (job) => observer.finished(name, job, 'completed'));
    worker.on('failed', (job, err) => {
      if (job) {
        const last = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
        observer.finished(name, job, last ? 'failed' : 'retrying');
      }
    });
  }
  return worker;
}

/** With tracing on, a job carries the trace that added it and runs in it (BullMQ's OpenTelemetry integration). */
function telemetry(): { telemetry?: BullMQOtel } {
  return tracingOn() ? { telemetry: new BullMQOtel({ tracerName: TRACER_NAME }) } : {};
}
