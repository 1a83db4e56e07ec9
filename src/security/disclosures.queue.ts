import type { Job, Queue, Worker } from 'bullmq';
import type { BundleEntry, Coding } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { disclosure } from './audit.js';

/**
 * Disclosure AuditEvents waiting to be written. What reached a partner (a plan version, a
 * subscription's events) is audited by a job of this queue, queued before the send is marked done:
 * the partner's sender is free for its next message at once, and a FHIR server that is slow or
 * away delays the audit, never the next delivery, and never loses it (README, "Queues").
 */
export const DISCLOSURES_QUEUE = 'disclosures';
export type DisclosuresJobName = 'record-disclosures';

/** One disclosure: what went to which partner, about whom, when. */
export interface DisclosureRecord {
  /** The AuditEvent's id, derived from the message: a job run twice writes each disclosure once. */
  readonly id: string;
  readonly partnerId: string;
  readonly patient: string;
  /** The reference disclosed (a plan version, a subscription event's focus). */
  readonly what: string;
  /** The security labels of what was disclosed (42 CFR Part 2). */
  readonly labels: readonly Coding[];
  /** When it reached the partner (ISO 8601). */
  readonly at: string;
}

export interface DisclosuresJobData {
  readonly disclosed: readonly DisclosureRecord[];
}

export type DisclosuresQueue = Queue<DisclosuresJobData, void, DisclosuresJobName>;

/** The hub's usual backoff (about an hour), and failed jobs kept: an audit is never dropped. */
const RETRY: RetryPolicy = { keepCompletedDays: 1 };

export function createDisclosuresQueue(connection: RedisClient, prefix: string): DisclosuresQueue {
  return createHubQueue(DISCLOSURES_QUEUE, connection, prefix, RETRY);
}

/** Queues the writing of `disclosed`; `jobId` (derived from what was sent) makes a repeat a no-op. */
export async function queueDisclosures(
  queue: DisclosuresQueue,
  jobId: string,
  disclosed: readonly DisclosureRecord[],
): Promise<void> {
  await queue.add('record-disclosures', { disclosed }, { jobId });
}

/** Writes a job's disclosures in one transaction, each AuditEvent by its own id. */
export async function writeDisclosures(
  fhir: FhirGateway,
  disclosed: readonly DisclosureRecord[],
): Promise<void> {
  if (disclosed.length === 0) {
    return;
  }
  const entry = disclosed.map((d): BundleEntry => ({
    resource: { ...disclosure(d, new Date(d.at)), id: d.id },
    request: { method: 'PUT', url: `AuditEvent/${d.id}` },
  }));
  await fhir.transaction({ resourceType: 'Bundle', type: 'transaction', entry });
}

export function createDisclosuresWorker(
  deps: { readonly fhir: FhirGateway; readonly logger: Logger },
  on: WorkerConnection,
): Worker<DisclosuresJobData, void, DisclosuresJobName> {
  return startHubWorker<DisclosuresJobData, void, DisclosuresJobName>(
    DISCLOSURES_QUEUE,
    (job: Job<DisclosuresJobData>) => writeDisclosures(deps.fhir, job.data.disclosed),
    on,
    deps.logger,
    { concurrency: 4 },
  );
}
