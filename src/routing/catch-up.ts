import type { CarePlan, Resource } from 'fhir/r4.js';
import type { Redis } from 'ioredis';
import type { PlanChangeJobData } from './plan-changes.queue.js';

/**
 * How far before the checkpoint each scan looks again. A transaction is stamped when it starts and
 * seen when it commits, so a version can appear after a later-stamped one was already scanned;
 * queuing a version twice is harmless (job ids are plan and version).
 */
export const CATCH_UP_OVERLAP_MS = 5 * 60_000;

/** What the scan reads of the FHIR server (the gateway, in the hub). */
export interface HistorySource {
  historySince<T extends Resource>(
    resourceType: T['resourceType'],
    since: string,
    maxPages?: number,
  ): Promise<T[]>;
  /** `meta.lastUpdated` of the newest version of any resource of the type, on the server's clock. */
  latestVersionTime(resourceType: string): Promise<string | undefined>;
}

/**
 * The safety net under the rest-hook: CarePlan versions the hub did not hear about (it was down,
 * or the server's notification was lost) are found in the type-level `_history` since the last
 * checkpoint (less an overlap, every page) and queued as plan changes. The first scan only sets
 * the checkpoint, from the server's own clock. Job ids are plan and version, so a version already
 * queued through the rest-hook or the hub's own write is not queued twice.
 * @returns how many versions were queued
 */
export async function catchUpPlanChanges(
  fhir: HistorySource,
  redis: Pick<Redis, 'get' | 'set'>,
  prefix: string,
  enqueue: (data: PlanChangeJobData) => Promise<void>,
): Promise<number> {
  const key = `${prefix}:careplan-history-checkpoint`;
  const checkpoint = await redis.get(key);
  if (!checkpoint) {
    // A hub that never looked has nothing to catch up on: history before it is not its to route.
    await redis.set(key, (await fhir.latestVersionTime('CarePlan')) ?? new Date(0).toISOString());
    return 0;
  }
  const since = new Date(Date.parse(checkpoint) - CATCH_UP_OVERLAP_MS).toISOString();
  const versions = await fhir.historySince<CarePlan>('CarePlan', since, Number.POSITIVE_INFINITY);
  for (const plan of versions) {
    if (plan.id && plan.meta?.versionId) {
      await enqueue({ carePlanId: plan.id, version: plan.meta.versionId, detectedBy: 'catch-up' });
    }
  }
  const latest = versions.at(-1)?.meta?.lastUpdated;
  if (latest && Date.parse(latest) > Date.parse(checkpoint)) {
    await redis.set(key, latest);
  }
  return versions.length;
}
