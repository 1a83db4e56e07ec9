import type { Queue, Worker } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import {
  NoAnswerInTime,
  withTimeout,
  type RedisClient,
  type WorkerConnection,
} from '../queues/connection.js';
import type { PartnerRegistry } from '../config/partners.js';
import {
  createAcknowledgmentsQueue,
  createAcknowledgmentsWorker,
  scheduleAckDeadline,
  type AcknowledgmentsQueue,
} from '../routing/acknowledgments.queue.js';
import type { CoordinationDeps } from '../coordination/coordination-deps.js';
import {
  createCoordinationQueue,
  createCoordinationWorker,
  scheduleObligationCheck,
  scheduleSupportWindowCheck,
  type CoordinationQueue,
} from '../coordination/coordination.queue.js';
import {
  createDeliveryQueue,
  createDeliveryWorker,
  enqueueDelivery,
  type DeliveryQueue,
} from '../routing/deliveries.queue.js';
import {
  createEscalationsQueue,
  createEscalationsWorker,
  enqueueEscalation,
  enqueueEscalations,
  type EscalationsQueue,
} from '../coordination/escalations.queue.js';
import {
  createIngestQueue,
  createIngestWorker,
  type IngestDeps,
  type IngestQueue,
} from '../ingest/ingest.queue.js';
import {
  createPlanChangesQueue,
  createPlanChangesWorker,
  createPlanRecordsQueue,
  createPlanRecordsWorker,
  enqueuePlanChange,
  enqueuePlanRecord,
  type PlanChangesQueue,
  type PlanRecordsQueue,
} from '../routing/plan-changes.queue.js';
import type { RoutingDeps } from '../routing/routing-deps.js';
import { createBatchesQueue, type BatchesQueue } from '../ingest/batches.queue.js';
import { createSubscriptionsQueue, type SubscriptionsQueue } from '../subscriptions/subscriptions.queue.js';
import { createMaintenanceQueue, type MaintenanceQueue } from '../queues/maintenance.queue.js';
import { createBulkReplayQueue, type BulkReplayQueue } from '../ingest/bulk-replay.queue.js';
import {
  createDisclosuresQueue,
  createDisclosuresWorker,
  queueDisclosures,
  type DisclosureBacklog,
  type DisclosuresQueue,
} from '../security/disclosures.queue.js';

/** Every queue of the hub. */
export interface HubQueues {
  readonly ingest: IngestQueue;
  /** Batches sent with `Prefer: respond-async`, waiting to be parsed. */
  readonly batches: BatchesQueue;
  readonly planChanges: PlanChangesQueue;
  /** Captured plan versions waiting for their Provenance, notice and acknowledgment Tasks. */
  readonly planRecords: PlanRecordsQueue;
  /** One per partner that receives deliveries. */
  readonly deliveries: ReadonlyMap<string, DeliveryQueue>;
  readonly acknowledgments: AcknowledgmentsQueue;
  readonly escalations: EscalationsQueue;
  readonly coordination: CoordinationQueue;
  /** Notifications of partners' topic-based subscriptions. */
  readonly subscriptions: SubscriptionsQueue;
  /** The periodic work, once per deployment (queues/maintenance.queue.ts). */
  readonly maintenance: MaintenanceQueue;
  /** Engineers' bulk replays of a search's rejected records. */
  readonly bulkReplays: BulkReplayQueue;
  /** Disclosure AuditEvents of what reached partners, written after the send. */
  readonly disclosures: DisclosuresQueue;
}

/** All queues as a list, e.g. for the dead-letter API and the dashboard. */
export function allQueues(queues: HubQueues): Queue[] {
  return [
    queues.ingest,
    queues.batches,
    queues.planChanges,
    queues.planRecords,
    ...queues.deliveries.values(),
    queues.acknowledgments,
    queues.escalations,
    queues.coordination,
    queues.subscriptions,
    queues.maintenance,
    queues.bulkReplays,
    queues.disclosures,
  ] as Queue[];
}

export function createQueues(
  connection: RedisClient,
  prefix: string,
  partners: PartnerRegistry,
  ingestAttempts?: number,
): HubQueues {
  return {
    ingest: createIngestQueue(connection, prefix, ingestAttempts),
    batches: createBatchesQueue(connection, prefix),
    planChanges: createPlanChangesQueue(connection, prefix),
    planRecords: createPlanRecordsQueue(connection, prefix),
    deliveries: new Map(
      partners
        .all()
        .filter((p) => p.outbound)
        .map((p) => [p.id, createDeliveryQueue(connection, prefix, p.id)]),
    ),
    acknowledgments: createAcknowledgmentsQueue(connection, prefix),
    escalations: createEscalationsQueue(connection, prefix),
    coordination: createCoordinationQueue(connection, prefix),
    subscriptions: createSubscriptionsQueue(connection, prefix),
    maintenance: createMaintenanceQueue(connection, prefix),
    bulkReplays: createBulkReplayQueue(connection, prefix),
    disclosures: createDisclosuresQueue(connection, prefix),
  };
}

/** The routing deps' enqueue functions, bound to the queues. */
export function routingEnqueuers(
  queues: HubQueues,
  partners: PartnerRegistry,
  now: () => Date,
  disclosures: DisclosureBacklog,
): Pick<
  RoutingDeps,
  'enqueueDelivery' | 'enqueuePlanRecord' | 'scheduleAckDeadline' | 'enqueueEscalation' | 'queueDisclosures'
> {
  return {
    enqueueDelivery: async (req) => {
      const queue = queues.deliveries.get(req.partnerId);
      if (!queue) {
        throw new Error(`No delivery queue for partner ${req.partnerId}`);
      }
      await enqueueDelivery(queue, req, partners.get(req.partnerId));
    },
    enqueuePlanRecord: (data) => enqueuePlanRecord(queues.planRecords, data),
    scheduleAckDeadline: (taskId, dueAt) => scheduleAckDeadline(queues.acknowledgments, taskId, dueAt, now()),
    enqueueEscalation: (req) => enqueueEscalation(queues.escalations, req),
    queueDisclosures: (jobId, disclosed) =>
      queueDisclosures(queues.disclosures, disclosures, jobId, disclosed),
  };
}

/** The coordination deps' scheduling functions, bound to the queues. */
export function coordinationEnqueuers(
  queues: HubQueues,
  now: () => Date,
): Pick<CoordinationDeps, 'enqueueEscalations' | 'scheduleObligationCheck' | 'scheduleSupportWindowCheck'> {
  return {
    enqueueEscalations: (reqs) => enqueueEscalations(queues.escalations, reqs),
    scheduleObligationCheck: (taskId, due, escalateAs) =>
      scheduleObligationCheck(queues.coordination, taskId, due, escalateAs, now()),
    scheduleSupportWindowCheck: (check, reviewBy) =>
      scheduleSupportWindowCheck(queues.coordination, check, reviewBy, now()),
  };
}

export { enqueuePlanChange };

/** Starts every worker on one Redis connection made for blocking use. */
export function startWorkers(
  on: WorkerConnection,
  ingestDeps: IngestDeps,
  routingDeps: RoutingDeps,
  coordinationDeps: CoordinationDeps,
  ingestConcurrency: number,
): Worker[] {
  return [
    createIngestWorker(ingestDeps, on, ingestConcurrency),
    createPlanChangesWorker(routingDeps, on, 4),
    createPlanRecordsWorker(routingDeps, on, 4),
    ...routingDeps.partners
      .all()
      .filter((p) => p.outbound)
      .map((p) => createDeliveryWorker(routingDeps, on, p)),
    createAcknowledgmentsWorker(routingDeps, on),
    createEscalationsWorker(routingDeps, on),
    createCoordinationWorker(coordinationDeps, on),
    createDisclosuresWorker(routingDeps, on),
  ] as Worker[];
}

/**
 * Closes workers before queues (house style 9): a worker finishes its current job, which may
 * still enqueue follow-up work. A worker still closing after `graceMs` has its connections
 * dropped: after a cluster master restart BullMQ can wait forever for a connection's end
 * (README "Redis Cluster"), and a hub must still stop.
 */
export async function closeQueues(
  workers: readonly Worker[],
  queues: HubQueues,
  { graceMs, logger }: { readonly graceMs: number; readonly logger?: Logger } = { graceMs: 10_000 },
): Promise<void> {
  const inTime = (work: Promise<void>): Promise<boolean> =>
    withTimeout(work, graceMs).then(
      () => true,
      (err: unknown) => {
        if (err instanceof NoAnswerInTime) {
          return false;
        }
        throw err;
      },
    );
  await Promise.all(
    workers.map(async (worker) => {
      if (!(await inTime(worker.close()))) {
        logger?.warn(
          { queue: worker.name, graceMs },
          'worker not closed in time: its connections are dropped',
        );
        await inTime(worker.disconnect());
      }
    }),
  );
  await Promise.all(allQueues(queues).map((q) => q.close()));
}
