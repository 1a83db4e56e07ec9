import { storeKeyPrefix, type RedisClient, type WorkerConnection } from '../queues/connection.js';
import { type Queue, UnrecoverableError, type Worker, type Job } from 'bullmq';
import { backoffFrom, createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { holdJob, whileHolding } from '../queues/lease.js';
import type { PartnerConfig } from '../config/partners.js';
import { DeliveryError } from '../outbound/delivery-error.js';
import { deliver } from '../outbound/transports.js';
import type { OutboundTarget, PlanChangeDelivery } from '../outbound/types.js';
import { DEFAULT_CIRCUIT } from '../outbound/circuit-breaker.js';
import type { Consent } from 'fhir/r4.js';
import { buildDelivery, contentOf, messageIdFor, type DeliveryRequest } from './deliver-plan-change.js';
import { openAckTasksWithDeadlines } from './plan-changes.queue.js';
import { withheldDisclosure } from '../security/audit.js';
import { consentPermits, isPart2 } from '../security/part2.js';
import { notifyCircuitOpened } from './partner-alerts.js';
import type { RoutingDeps } from './routing-deps.js';

/**
 * One queue per partner (`deliveries-<partnerId>`): each partner gets its own concurrency and rate
 * limit, and a slow or failing partner never holds up deliveries to the others.
 */
export function deliveryQueueName(partnerId: string): string {
  return `deliveries-${partnerId}`;
}
export type DeliveryJobName = 'deliver-plan-change';
export type DeliveryJobData = DeliveryRequest;

export interface DeliveryJobResult {
  /**
   * `superseded`: the partner already has a newer version of this plan, so this one was not sent;
   * `withheld`: Part 2 data without the participant's consent for this partner.
   */
  readonly status: 'delivered' | 'superseded' | 'withheld';
  readonly messageId: string;
  readonly httpStatus?: number;
  readonly at: string;
}

export type DeliveryQueue = Queue<DeliveryJobData, DeliveryJobResult, DeliveryJobName>;

/**
 * 10 attempts, exponential from 2 s with jitter: about 34 minutes of retries for a partner that is
 * down or answering 5xx. Then the delivery is a dead letter (kept in the failed set, never removed
 * automatically) for an engineer to inspect and replay.
 */
export const DELIVERY_ATTEMPTS = 10;
const RETRY: RetryPolicy = { attempts: DELIVERY_ATTEMPTS, firstBackoffMs: 2000, keepCompletedDays: 7 };

/** How soon a delivery that found the per-plan lock taken tries again. */
const LOCK_RETRY_MS = 250;

/**
 * Claims the send of a version: refused when a newer version was sent or delivered meanwhile (the
 * lock is a lease; a process stalled past it may find another replica moved on), else the sent
 * mark becomes this version. One script, so no other process acts between the check and the set.
 */
const CLAIM_SEND = `
local v = tonumber(ARGV[1])
if tonumber(redis.call('get', KEYS[1]) or '0') > v or tonumber(redis.call('get', KEYS[2]) or '0') > v then
  return 0
end
redis.call('set', KEYS[2], ARGV[1])
return 1`;

/** Raises a version mark, never lowers it. */
const RAISE_MARK = `
if tonumber(redis.call('get', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('set', KEYS[1], ARGV[1])
end
return 1`;

export function createDeliveryQueue(
  connection: RedisClient,
  prefix: string,
  partnerId: string,
): DeliveryQueue {
  return createHubQueue(deliveryQueueName(partnerId), connection, prefix, RETRY);
}

/** The job of one plan version's delivery to one partner (a Consent's release adds its own suffix). */
export function deliveryJobId(partnerId: string, carePlanId: string, version: string): string {
  return `delivery.${partnerId}.${carePlanId}.${version}`;
}

/** Queues one delivery; the partner's file may set its own attempts and backoff. */
export async function enqueueDelivery(
  queue: DeliveryQueue,
  req: DeliveryRequest,
  partner?: PartnerConfig,
): Promise<void> {
  const out = partner?.outbound;
  await queue.add('deliver-plan-change', req, {
    jobId: `${deliveryJobId(req.partnerId, req.carePlanId, req.version)}${req.release ? `.${req.release}` : ''}`,
    ...(out?.maxAttempts ? { attempts: out.maxAttempts } : {}),
    ...(out?.backoffMs ? { backoff: backoffFrom(out.backoffMs) } : {}),
  });
}

/** The partner's transport settings with its secret. */
export function outboundTarget(partner: PartnerConfig, secret: string | undefined): OutboundTarget {
  const out = partner.outbound!;
  return {
    transport: out.transport,
    url: out.url,
    timeoutMs: out.timeoutMs ?? 10000,
    ...(secret ? { secret } : {}),
  };
}

/**
 * Delivers one plan version to one partner, in order: while holding a per-(partner, plan) lock it
 * skips a version older than one already delivered (superseded), sends, and records the version as
 * delivered. A permanent failure (the partner says the message is wrong) is a dead letter at once,
 * with the partner's answer in the job log; anything else is retried with the same message id.
 * While the partner's circuit is open the job is held (re-scheduled without using an attempt).
 */
export function processDeliveryJob(
  deps: RoutingDeps,
  lockMs: number,
): (job: Job<DeliveryJobData, DeliveryJobResult>, token?: string) => Promise<DeliveryJobResult> {
  return async (job, token) => {
    const req = job.data;
    const partner = deps.partners.get(req.partnerId);
    if (!partner?.outbound) {
      throw new UnrecoverableError(`Partner ${req.partnerId} has no outbound configuration`);
    }
    const circuitSettings = partner.outbound.circuit ?? DEFAULT_CIRCUIT;
    const decision = await deps.circuit.check(partner.id, circuitSettings, deps.now().getTime());
    if (!decision.allow) {
      return holdJob(job, decision.retryAt, token);
    }
    const lockKey = `${marksPrefix(deps)}:lock:delivery:${req.partnerId}:${req.carePlanId}`;
    const result = await whileHolding(deps.redis, lockKey, job.id ?? 'job', lockMs, () =>
      deliverInOrder(deps, job, req, decision.probe),
    );
    if (result === 'busy') {
      return holdJob(job, Date.now() + LOCK_RETRY_MS, token);
    }
    return result;
  };
}

/** Where the delivery marks and locks are: one slot, as the claim script needs both marks there. */
function marksPrefix(deps: Pick<RoutingDeps, 'redis' | 'prefix'>): string {
  return storeKeyPrefix(deps.redis, deps.prefix, 'delivery-marks');
}

async function deliverInOrder(
  deps: RoutingDeps,
  job: Job<DeliveryJobData, DeliveryJobResult>,
  req: DeliveryRequest,
  probe: boolean,
): Promise<DeliveryJobResult> {
  const partner = deps.partners.get(req.partnerId)!;
  const deliveredKey = `${marksPrefix(deps)}:delivered:${req.partnerId}:${req.carePlanId}`;
  // The newest version sent at all: one that timed out may have arrived, so an older version's
  // retry must not follow it (the partner would get 5 then 3).
  const sentKey = `${marksPrefix(deps)}:sent:${req.partnerId}:${req.carePlanId}`;
  const messageId = messageIdFor(req);
  const now = deps.now();
  const superseded = async (): Promise<DeliveryJobResult> => {
    await deps.status.mark(req.carePlanId, req.version, req.partnerId, 'superseded', now);
    return { status: 'superseded', messageId, at: now.toISOString() };
  };
  // A first look before the FHIR reads; the claim below decides.
  const [delivered, sent] = await deps.redis.mget(deliveredKey, sentKey);
  if (Number(delivered ?? 0) > Number(req.version) || Number(sent ?? 0) > Number(req.version)) {
    return superseded();
  }
  const delivery = buildDelivery(
    deps.identifierBase,
    req,
    await contentOf(deps.fhir, deps.content, req),
    deps.partners.part2Programs(),
  );
  if (Number(delivered ?? 0) === Number(req.version)) {
    // An earlier attempt delivered this very version and failed in a later step: finish that
    // step (the disclosure record, the status), never call it superseded, never send it again.
    return recordDelivered(deps, req, delivery, { status: 'delivered', messageId, at: now.toISOString() });
  }
  const what = `CarePlan/${req.carePlanId}/_history/${req.version}`;
  if (isPart2(delivery.carePlan)) {
    // Checked at sending time, so a Consent revoked while the delivery waited stops it.
    const consents = await deps.fhir.search<Consent>('Consent', { patient: req.patient, status: 'active' });
    if (!consentPermits(consents, req.partnerId, now)) {
      await deps.withheld.withhold(req);
      await deps.status.mark(req.carePlanId, req.version, req.partnerId, 'withheld', now);
      await deps.fhir.create(
        withheldDisclosure({ partnerId: req.partnerId, patient: req.patient, what }, now),
      );
      return { status: 'withheld', messageId, at: now.toISOString() };
    }
  }
  if ((await deps.redis.eval(CLAIM_SEND, 2, deliveredKey, sentKey, req.version)) !== 1) {
    return superseded();
  }
  await deps.status.mark(req.carePlanId, req.version, req.partnerId, 'sent', now);
  const which = {
    partnerId: req.partnerId,
    carePlanId: req.carePlanId,
    version: req.version,
    jobId: job.id,
  };
  deps.logger.debug({ ...which, attempt: job.attemptsMade + 1 }, 'delivery sending');
  let receipt;
  try {
    receipt = await deliver(
      delivery,
      outboundTarget(partner, deps.partners.secretOf(partner.id)),
      // Signed as it leaves, not when the job started: the reads above can take a while, and a
      // partner checks the timestamp against its own clock.
      Math.floor(deps.now().getTime() / 1000),
    );
  } catch (err) {
    if (!(err instanceof DeliveryError)) {
      throw err;
    }
    const failure = `${err.kind} failure${err.httpStatus ? ` (HTTP ${err.httpStatus})` : ''}: ${err.partnerAnswer ?? err.message}`;
    deps.logger.info({ ...which, attempt: job.attemptsMade + 1, failure }, 'delivery attempt failed');
    await job.log(failure);
    if (err.kind === 'permanent') {
      await deps.status.mark(req.carePlanId, req.version, req.partnerId, 'failed', deps.now());
      throw new UnrecoverableError(
        `Partner refused the message: ${err.httpStatus ?? ''} ${err.partnerAnswer ?? err.message}`.trim(),
      );
    }
    await recordUnhealthy(deps, partner.id, probe);
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
      await deps.status.mark(req.carePlanId, req.version, req.partnerId, 'failed', deps.now());
    }
    throw err;
  }
  await deps.circuit.recordSuccess(partner.id);
  await deps.redis.eval(RAISE_MARK, 1, deliveredKey, req.version);
  return recordDelivered(deps, req, delivery, {
    status: 'delivered',
    messageId,
    httpStatus: receipt.httpStatus,
    at: now.toISOString(),
  });
}

/**
 * What follows a delivery the partner received: the disclosure AuditEvent (queued, under an id
 * derived from the message, so a retry of this step writes it once), the delivered status and, for
 * Part 2 content, the acknowledgment Task. Safe to run again when an earlier run failed part way.
 */
async function recordDelivered(
  deps: RoutingDeps,
  req: DeliveryRequest,
  delivery: PlanChangeDelivery,
  result: DeliveryJobResult,
): Promise<DeliveryJobResult> {
  const id = `disclosure-${delivery.messageId}`;
  await deps.queueDisclosures(id, [
    {
      id,
      partnerId: req.partnerId,
      patient: req.patient,
      what: `CarePlan/${req.carePlanId}/_history/${req.version}`,
      labels: delivery.carePlan.meta?.security ?? [],
      at: deps.now().toISOString(),
    },
  ]);
  await deps.status.mark(req.carePlanId, req.version, req.partnerId, 'delivered', deps.now());
  if (isPart2(delivery.carePlan) && req.altersDelivery) {
    // Not asked at plan-change time unless a Consent allowed it then; asking again is a no-op,
    // except that a released version's acknowledgment window starts when it reaches the partner.
    await openAckTasksWithDeadlines(deps, [req], deps.now(), true, {
      restartWindow: req.release !== undefined,
    });
  }
  deps.logger.info(
    { partnerId: req.partnerId, carePlanId: req.carePlanId, version: req.version },
    'plan change delivered',
  );
  return result;
}

/** Counts a transient failure against the partner's circuit and tells people when it opens. */
async function recordUnhealthy(deps: RoutingDeps, partnerId: string, probe: boolean): Promise<void> {
  const settings = deps.partners.get(partnerId)?.outbound?.circuit ?? DEFAULT_CIRCUIT;
  const now = deps.now();
  if (await deps.circuit.recordFailure(partnerId, settings, now.getTime(), probe)) {
    deps.logger.error({ partnerId }, 'partner circuit opened: deliveries held');
    await notifyCircuitOpened(
      deps.fhir,
      deps.identifierBase,
      partnerId,
      now,
      new Date(now.getTime() + settings.cooldownMs),
    );
  }
}

export function createDeliveryWorker(
  deps: RoutingDeps,
  on: WorkerConnection,
  partner: PartnerConfig,
): Worker<DeliveryJobData, DeliveryJobResult, DeliveryJobName> {
  const out = partner.outbound!;
  return startHubWorker(
    deliveryQueueName(partner.id),
    processDeliveryJob(deps, on.lockDuration),
    on,
    deps.logger,
    {
      concurrency: out.concurrency ?? 1,
      ...(out.rateLimit ? { limiter: { max: out.rateLimit.max, duration: out.rateLimit.durationMs } } : {}),
      log: { partnerId: partner.id },
    },
  );
}

/** What the hub tried with one partner for one plan version: its attempts and the partner's answers. */
export interface DeliveryAttempts {
  readonly jobId: string;
  readonly state: string;
  readonly attempts: number;
  /** The partner's answer to each failed attempt, oldest first (the job's log). */
  readonly answers: readonly string[];
}

/** The delivery job of a plan version for a partner, with its attempts; undefined when none is kept. */
export async function deliveryAttempts(
  queue: DeliveryQueue,
  partnerId: string,
  carePlanId: string,
  version: string,
): Promise<DeliveryAttempts | undefined> {
  const jobId = deliveryJobId(partnerId, carePlanId, version);
  const job = await queue.getJob(jobId);
  if (!job) {
    return undefined;
  }
  const [state, { logs }] = await Promise.all([job.getState(), queue.getJobLogs(jobId, 0, 19)]);
  return { jobId, state, attempts: job.attemptsMade, answers: logs };
}
