import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { type Queue, type Worker, type Job } from 'bullmq';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { escalate, type EscalationRequest, type EscalationResult } from './escalate.js';
import type { CoordinationConfig } from './coordination-config.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';

/** Escalations to the coordinator of the day and the tier chair. */
export const ESCALATIONS_QUEUE = 'escalations';
export type EscalationJobName = 'escalate';

/** An escalation request as it travels through Redis (dates as ISO strings). */
export type EscalationJobData = Omit<EscalationRequest, 'at'> & { readonly at: string };
export type EscalationsQueue = Queue<EscalationJobData, EscalationResult, EscalationJobName>;

const RETRY: RetryPolicy = { keepCompletedDays: 30 };

export function createEscalationsQueue(connection: RedisClient, prefix: string): EscalationsQueue {
  return createHubQueue(ESCALATIONS_QUEUE, connection, prefix, RETRY);
}

/** One escalation per trigger and focus: a repeated trigger does not escalate twice. */
export async function enqueueEscalation(queue: EscalationsQueue, req: EscalationRequest): Promise<void> {
  const jobId = `escalate.${req.trigger}.${req.focus.replace(/[/:]/g, '-')}`;
  await queue.add('escalate', { ...req, at: req.at.toISOString() }, { jobId });
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
): (job: Job<EscalationJobData>) => Promise<EscalationResult> {
  return async (job) => {
    const { tiers, calendars } = deps.coordination;
    const result = await escalate(deps.fhir, deps.identifierBase, tiers, calendars, {
      ...job.data,
      at: new Date(job.data.at),
    });
    deps.logger.info({ trigger: job.data.trigger, tier: result.tierId, task: result.task }, 'escalated');
    return result;
  };
}

export function createEscalationsWorker(
  deps: EscalationDeps,
  on: WorkerConnection,
): Worker<EscalationJobData, EscalationResult, EscalationJobName> {
  return startHubWorker(ESCALATIONS_QUEUE, processEscalationJob(deps), on, deps.logger, { concurrency: 2 });
}
