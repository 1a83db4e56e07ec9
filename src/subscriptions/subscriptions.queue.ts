import { createHash } from 'node:crypto';
import { writeDisclosures, type DisclosureRecord } from '../security/disclosures.queue.js';
import type { Coding, FhirResource } from 'fhir/r4.js';
import type { Job, Queue, Worker } from 'bullmq';
import { holdJob } from '../queues/lease.js';
import type { RedisClient, WorkerConnection } from '../queues/connection.js';
import { createHubQueue, startHubWorker } from '../queues/queue-factory.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';
import { DEFAULT_CIRCUIT, type CircuitBreaker, type CircuitSettings } from '../outbound/circuit-breaker.js';
import { DeliveryError } from '../outbound/delivery-error.js';
import { postNotification } from '../outbound/transports.js';
import type { PartnerRegistry } from '../config/partners.js';
import {
  notificationBundle,
  type NotificationType,
  type StatusOf,
  type SubscriptionEvent,
} from './notification-bundle.js';
import type { SubscriptionStore } from './subscription-store.js';
import type { HubSubscription } from './subscription-request.js';

/**
 * Notifications of partners' subscriptions (README, "Subscriptions"): the handshake, heartbeats
 * and events, each a job with the hub's retries. Events go out in order: one sender per
 * subscription at a time sends everything after the last event the subscriber took, so a job
 * retried, late or run twice never reorders or repeats an event.
 */
export const SUBSCRIPTIONS_QUEUE = 'subscription-notifications';
/** How soon a notification that found its subscription's sender busy looks again. */
const SENDER_BUSY_RETRY_MS = 250;
/** What a job sends; `audit` jobs (queued before disclosures had a queue) write disclosures. */
type JobName = 'handshake' | 'heartbeat' | 'events';

/** An event sent to a subscriber, with the security labels of what it disclosed. */
interface Disclosed extends SubscriptionEvent {
  readonly labels: readonly Coding[];
}

interface JobData {
  readonly subscriptionId: string;
  /** Older `audit` jobs: whom the events went to, and which. */
  readonly partnerId?: string;
  readonly disclosed?: readonly Disclosed[];
}

// Typed by string: BullMQ types a job scheduler's id as a job name.
export type SubscriptionsQueue = Queue<JobData, void, string>;

export function createSubscriptionsQueue(connection: RedisClient, prefix: string): SubscriptionsQueue {
  return createHubQueue(SUBSCRIPTIONS_QUEUE, connection, prefix, { attempts: 12, keepCompletedDays: 1 });
}

/** A new subscription's handshake, and its heartbeats from then on. */
export async function startNotifying(queue: SubscriptionsQueue, sub: HubSubscription): Promise<void> {
  await queue.add('handshake', { subscriptionId: sub.id }, { jobId: `handshake.${sub.id}` });
  if (sub.heartbeatSeconds) {
    await queue.upsertJobScheduler(
      `heartbeat.${sub.id}`,
      { every: sub.heartbeatSeconds * 1000 },
      { name: 'heartbeat', data: { subscriptionId: sub.id } },
    );
  }
}

export async function stopNotifying(queue: SubscriptionsQueue, id: string): Promise<void> {
  await queue.removeJobScheduler(`heartbeat.${id}`);
}

/** Sends what the subscriber has not taken, up to event `n`. */
export async function notifyEvents(queue: SubscriptionsQueue, id: string, n: number): Promise<void> {
  await queue.add('events', { subscriptionId: id }, { jobId: `events.${id}.${n}` });
}

export interface SubscriptionSenderDeps {
  readonly store: SubscriptionStore;
  readonly fhir: FhirGateway;
  /** The hub's FHIR base as partners reach it (`<public URL>/fhir`). */
  readonly fhirBase: string;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly queue: () => SubscriptionsQueue;
  /** Queues the disclosure AuditEvents of what was sent (security/disclosures.queue.ts). */
  queueDisclosures(jobId: string, disclosed: readonly DisclosureRecord[]): Promise<void>;
  readonly partners: PartnerRegistry;
  /** The partners' circuits, shared with deliveries: a subscription's endpoint is on its partner's server. */
  readonly circuit: CircuitBreaker;
}

/** The AuditEvent of one event's disclosure to a subscriber: one per event, however often it is sent. */
export function subscriptionDisclosureId(subscriptionId: string, eventNumber: number): string {
  return `disclosure-sub-${createHash('sha256').update(`${subscriptionId}|${eventNumber}`).digest('hex').slice(0, 32)}`;
}

export function createSubscriptionsWorker(deps: SubscriptionSenderDeps, on: WorkerConnection): Worker {
  return startHubWorker(
    SUBSCRIPTIONS_QUEUE,
    (job: Job<JobData>, token?: string) =>
      job.name === 'audit' ? audit(deps, job.data) : send(deps, job, token),
    on,
    deps.logger,
    { concurrency: 4 },
  );
}

async function send(deps: SubscriptionSenderDeps, job: Job<JobData>, token?: string): Promise<void> {
  const id = job.data.subscriptionId;
  const kind = job.name as JobName;
  const sub = await deps.store.get(id);
  if (!sub) {
    return; // deleted
  }
  // While the partner's circuit is open the notification is held, keeping its attempts.
  const circuit = deps.partners.get(sub.partnerId)?.outbound?.circuit ?? DEFAULT_CIRCUIT;
  const decision = await deps.circuit.check(sub.partnerId, circuit, deps.now().getTime());
  if (!decision.allow) {
    return holdJob(job, decision.retryAt, token);
  }
  // Another sender holds the subscription: waiting for it is not a failed attempt.
  const sent = await deps.store.whileHeld(id, () => sendHeld(deps, kind, sub, circuit, decision.probe));
  if (sent === 'busy') {
    return holdJob(job, Date.now() + SENDER_BUSY_RETRY_MS, token);
  }
}

/** {@link send} as the subscription's one sender. */
async function sendHeld(
  deps: SubscriptionSenderDeps,
  kind: JobName,
  sub: HubSubscription,
  circuit: CircuitSettings,
  probe: boolean,
): Promise<void> {
  const id = sub.id;
  const { status } = await deps.store.status(id);
  if (status === 'off') {
    return;
  }
  if (kind === 'events' && status === 'requested') {
    throw new Error(`subscription ${id} has not completed its handshake; retried`);
  }
  const of: StatusOf = {
    subscriptionUrl: `${deps.fhirBase}/Subscription/${id}`,
    topic: sub.topic,
    status: status === 'requested' ? 'requested' : 'active',
    eventsSinceStart: await deps.store.eventsSinceStart(id),
  };
  // A heartbeat carries the events not yet taken (their job ran out of tries while the endpoint
  // was down), so a subscriber that recovers gets them without waiting for a new event.
  const events =
    kind !== 'handshake' && status !== 'requested'
      ? await deps.store.events(id, (await deps.store.lastSent(id)) + 1, Infinity, sub.maxCount)
      : [];
  if (kind === 'events' && events.length === 0) {
    return; // sent already, by the job of a later event
  }
  // The events' resources are read together (one batch).
  const resources = new Map<string, FhirResource>(
    sub.payload === 'full-resource'
      ? await Promise.all(
          events.map(async (e) => {
            const [type = '', rid = '', , version = ''] = e.focus.split('/');
            const resource = await deps.fhir.vread<FhirResource>(
              type as FhirResource['resourceType'],
              rid,
              version,
            );
            return [e.focus, resource] as const;
          }),
        )
      : [],
  );
  const last = events.at(-1)?.number ?? 0;
  const type: NotificationType = events.length > 0 || kind === 'events' ? 'event-notification' : kind;
  const bundle = notificationBundle(of, type, events, sub.payload, deps.fhirBase, resources);
  try {
    await postNotification(sub.endpoint, bundle, headersOf(sub), sub.timeoutSeconds * 1000);
  } catch (err) {
    await deps.store.setStatus(id, 'error', (err as Error).message);
    if (err instanceof DeliveryError && err.kind !== 'permanent') {
      await deps.circuit.recordFailure(sub.partnerId, circuit, deps.now().getTime(), probe);
    }
    throw err;
  }
  await deps.circuit.recordSuccess(sub.partnerId);
  if (status !== 'active') {
    await deps.store.setStatus(id, 'active');
  }
  if (last > 0) {
    // Each event sent is a disclosure, audited as deliveries are, by a job of its own queued
    // before the mark moves: the subscriber has the events, and a FHIR server that is away
    // delays the audit, never sends the events again.
    const at = deps.now().toISOString();
    await deps.queueDisclosures(
      `audit.${id}.${events[0]!.number}.${last}`,
      events.map((e) =>
        eventDisclosure(id, sub.partnerId, e, resources.get(e.focus)?.meta?.security ?? [], at),
      ),
    );
    await deps.store.markSent(id, last);
  }
  if (events.length === sub.maxCount) {
    // There may be more: a job of its own, named apart from the jobs of single events.
    await deps.queue().add('events', { subscriptionId: id }, { jobId: `events.${id}.after.${last}` });
  }
}

/**
 * An `audit` job queued here before disclosures had a queue of their own (an upgrade may find some
 * waiting): one AuditEvent per event disclosed, by the same ids.
 */
async function audit(deps: SubscriptionSenderDeps, data: JobData): Promise<void> {
  const at = deps.now().toISOString();
  await writeDisclosures(
    deps.fhir,
    (data.disclosed ?? []).map((e) =>
      eventDisclosure(data.subscriptionId, data.partnerId ?? '', e, e.labels, at),
    ),
  );
}

/** The disclosure of one event sent to a subscriber (its AuditEvent id: one per event). */
function eventDisclosure(
  subscriptionId: string,
  partnerId: string,
  e: SubscriptionEvent,
  labels: readonly Coding[],
  at: string,
): DisclosureRecord {
  return {
    id: subscriptionDisclosureId(subscriptionId, e.number),
    partnerId,
    patient: e.patient ?? '',
    what: e.focus,
    labels,
    at,
  };
}

function headersOf(sub: HubSubscription): Record<string, string> {
  return Object.fromEntries(
    sub.headers.map((h) => {
      const at = h.indexOf(': ');
      return [h.slice(0, at), h.slice(at + 2)];
    }),
  );
}
