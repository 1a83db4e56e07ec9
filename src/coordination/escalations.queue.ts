import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { createHash } from 'node:crypto';
import {
  escalate,
  escalateAll,
  escalationKey,
  type EscalationRequest,
  type EscalationResult,
} from './escalate.js';
import type { CoordinationConfig } from './coordination-config.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { FhirServerError } from '../fhir/fhir-errors.js';
import type { Logger } from '../logging/logger.js';

/** Escalations to the coordinator of the day and the tier chair. */
export const ESCALATIONS_QUEUE = 'escalations';
export type EscalationJobName = 'escalate';

/** An escalation request as it travels through Redis (dates as ISO strings). */
export type EscalationData = Omit<EscalationRequest, 'at'> & { readonly at: string };
/** One escalation, or several raised together (written in one transaction). */
export type EscalationJobData = EscalationData | { readonly requests: readonly EscalationData[] };
export type EscalationsQueue = Queue<EscalationJobData, EscalationResult[], EscalationJobName>;

const RETRY: RetryPolicy = { keepCompletedDays: 30 };

export function createEscalationsQueue(connection: RedisClient, prefix: string): EscalationsQueue {
  return createHubQueue(ESCALATIONS_QUEUE, connection, prefix, RETRY);
}

/** One escalation per trigger and focus: a repeated trigger does not escalate twice. */
export async function enqueueEscalation(queue: EscalationsQueue, req: EscalationRequest): Promise<void> {
  await enqueueEscalations(queue, [req]);
}

/**
 * Several escalations as one job; the job id is that of the set (a rules run repeated raises the
 * same set once). The escalation itself is idempotent on trigger and focus, so one also raised in
 * another set is written once.
 */
export async function enqueueEscalations(
  queue: EscalationsQueue,
  reqs: readonly EscalationRequest[],
): Promise<void> {
  const requests = reqs.map((r) => ({ ...r, at: r.at.toISOString() }));
  const keys = [...new Set(reqs.map((r) => escalationKey(r).replace(/:/g, '-')))].sort();
  if (requests.length === 1) {
    await queue.add('escalate', requests[0]!, { jobId: `escalate.${keys[0]}` });
  } else if (requests.length > 1) {
    const digest = createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 32);
    await queue.add('escalate', { requests }, { jobId: `escalate.set-${digest}` });
  }
}

/** What an escalation worker needs. */
export interface EscalationDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  /** Escalation tiers, and the calendars their deadlines and after-hours routing follow. */
  readonly coordination: Pick<CoordinationConfig, 'tiers' | 'calendars'>;
  readonly logger: Logger;
}

export function processEscalationJob(
  deps: EscalationDeps,
): (job: Job<EscalationJobData>) => Promise<EscalationResult[]> {
  return async (job) => {
    const { tiers, calendars } = deps.coordination;
    const requests = ('requests' in job.data ? job.data.requests : [job.data]).map((r) => ({
      ...r,
      at: new Date(r.at),
    }));
    const results = await escalateAll(deps.fhir, deps.identifierBase, tiers, calendars, requests).catch(
      (err: unknown) => {
        // One the server refuses must not hold back the others of its set: each is written alone,
        // and the job still fails (retried, then a dead letter) for the one refused.
        if (requests.length > 1 && err instanceof FhirServerError && !err.transient) {
          return escalateEach(deps, requests);
        }
        throw err;
      },
    );
    for (const result of results) {
      deps.logger.info({ trigger: result.trigger, tier: result.tierId, task: result.task }, 'escalated');
    }
    return results;
  };
}

async function escalateEach(
  deps: EscalationDeps,
  requests: readonly EscalationRequest[],
): Promise<EscalationResult[]> {
  const { tiers, calendars } = deps.coordination;
  const settled = await Promise.allSettled(
    requests.map((r) => escalate(deps.fhir, deps.identifierBase, tiers, calendars, r)),
  );
  const refused = settled.find((s) => s.status === 'rejected');
  if (refused) {
    throw refused.reason;
  }
  return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
}

export function createEscalationsWorker(
  deps: EscalationDeps,
  on: WorkerConnection,
): Worker<EscalationJobData, EscalationResult[], EscalationJobName> {
  return startHubWorker(ESCALATIONS_QUEUE, processEscalationJob(deps), on, deps.logger, { concurrency: 2 });
}
