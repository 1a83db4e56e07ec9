import { UnrecoverableError, type Job, type Queue, type Worker } from 'bullmq';
import type { BundleEntry, Coding } from 'fhir/r4.js';
import { FhirServerError } from '../fhir/fhir-errors.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';
import { storeKeyPrefix, type RedisClient, type WorkerConnection } from '../queues/connection.js';
import { createHubQueue, startHubWorker, type RetryPolicy } from '../queues/queue-factory.js';
import { disclosure } from './audit.js';

/**
 * Disclosure AuditEvents waiting to be written. What reached a partner (a plan version, a
 * subscription's events) is audited after the send: the partner's sender is free for its next
 * message at once, and a FHIR server that is slow or away delays the audit, never the next
 * delivery, and never loses it. Disclosures wait in a Redis list; each one queued adds a job, and
 * a job takes what is waiting then (up to a batch) and writes it in one transaction, so the ten
 * deliveries of one plan version cost the FHIR server one or two writes, not ten (README, "Queues").
 */
export const DISCLOSURES_QUEUE = 'disclosures';
export type DisclosuresJobName = 'record-disclosures';

/** One disclosure: what went to which partner, about whom, when. */
export interface DisclosureRecord {
  /** The AuditEvent's id, derived from the message: written twice, it is still one AuditEvent. */
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

/** A job names the disclosures that queued it; it writes whatever is waiting when it runs. */
export interface DisclosuresJobData {
  readonly queued: readonly string[];
}

export type DisclosuresQueue = Queue<DisclosuresJobData, void, DisclosuresJobName>;

/** The hub's usual backoff (about an hour), and failed jobs kept: an audit is never dropped. */
const RETRY: RetryPolicy = { keepCompletedDays: 1 };
/** The most disclosures one transaction writes. */
const BATCH = 100;

/**
 * A job's batch: what it took before (a retry writes the same batch again), or up to ARGV[1]
 * disclosures moved from the waiting list to the job's own, in one step, so no two jobs take the
 * same disclosure and none is ever out of both lists.
 */
const TAKE = `
if redis.call('exists', KEYS[2]) == 1 then
  return redis.call('lrange', KEYS[2], 0, -1)
end
local taken = redis.call('lrange', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #taken > 0 then
  redis.call('rpush', KEYS[2], unpack(taken))
  redis.call('ltrim', KEYS[1], #taken, -1)
end
return taken`;

/** Where disclosures wait, and the batch each job took; one hash tag, as the script needs. */
export class DisclosureBacklog {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'disclosure-backlog');
  }

  private get waiting(): string {
    return `${this.prefix}:disclosures:waiting`;
  }

  private takenBy(jobId: string): string {
    return `${this.prefix}:disclosures:taken:${jobId}`;
  }

  async add(disclosed: readonly DisclosureRecord[]): Promise<void> {
    await this.redis.rpush(this.waiting, ...disclosed.map((d) => JSON.stringify(d)));
  }

  async take(jobId: string): Promise<DisclosureRecord[]> {
    const taken = (await this.redis.eval(
      TAKE,
      2,
      this.waiting,
      this.takenBy(jobId),
      String(BATCH),
    )) as string[];
    return taken.map((json) => JSON.parse(json) as DisclosureRecord);
  }

  /** What the job has yet to write: its batch, or only the part the server refused. */
  async keep(jobId: string, left: readonly DisclosureRecord[]): Promise<void> {
    const key = this.takenBy(jobId);
    await this.redis.del(key);
    if (left.length > 0) {
      await this.redis.rpush(key, ...left.map((d) => JSON.stringify(d)));
    }
  }
}

export function createDisclosuresQueue(connection: RedisClient, prefix: string): DisclosuresQueue {
  return createHubQueue(DISCLOSURES_QUEUE, connection, prefix, RETRY);
}

/**
 * Queues `disclosed` to be written. `jobId` (derived from what was sent) makes a repeat add no
 * job; a repeated disclosure is still written once (its AuditEvent id is its own).
 */
export async function queueDisclosures(
  queue: DisclosuresQueue,
  backlog: DisclosureBacklog,
  jobId: string,
  disclosed: readonly DisclosureRecord[],
): Promise<void> {
  await backlog.add(disclosed);
  await queue.add('record-disclosures', { queued: disclosed.map((d) => d.id) }, { jobId });
}

/** Writes disclosures in one transaction, each AuditEvent by its own id. */
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

/**
 * Writes the batch a job takes. A batch the server refuses (4xx) is written one disclosure at a
 * time, so one bad disclosure holds back no other; the job then stops as a dead letter keeping
 * only what was refused, and its replay writes that again.
 */
export async function recordDisclosures(
  fhir: FhirGateway,
  backlog: DisclosureBacklog,
  jobId: string,
): Promise<void> {
  const batch = await backlog.take(jobId);
  try {
    await writeDisclosures(fhir, batch);
    await backlog.keep(jobId, []);
  } catch (err) {
    if (!isRefusal(err)) {
      throw err; // retried with the same batch
    }
    const refused: DisclosureRecord[] = [];
    for (const d of batch) {
      await writeDisclosures(fhir, [d]).catch((one: unknown) => {
        if (!isRefusal(one)) {
          throw one;
        }
        refused.push(d);
      });
    }
    await backlog.keep(jobId, refused);
    if (refused.length > 0) {
      throw new UnrecoverableError(
        `the FHIR server refused disclosure ${refused.map((d) => `AuditEvent/${d.id}`).join(', ')}: ${err.message}`,
      );
    }
  }
}

/** The server said no (4xx): writing the same again would not help. */
function isRefusal(err: unknown): err is FhirServerError {
  return err instanceof FhirServerError && !err.transient && err.httpStatus < 500;
}

export function createDisclosuresWorker(
  deps: { readonly fhir: FhirGateway; readonly logger: Logger; readonly disclosures: DisclosureBacklog },
  on: WorkerConnection,
): Worker<DisclosuresJobData, void, DisclosuresJobName> {
  return startHubWorker<DisclosuresJobData, void, DisclosuresJobName>(
    DISCLOSURES_QUEUE,
    (job: Job<DisclosuresJobData>) => recordDisclosures(deps.fhir, deps.disclosures, job.id!),
    on,
    deps.logger,
    { concurrency: 4 },
  );
}
