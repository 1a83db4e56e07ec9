import type { CarePlan } from 'fhir/r4.js';
import type { Redis } from 'ioredis';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { PlanChangeJobData } from './plan-changes.queue.js';

/**
 * The safety net under the rest-hook: CarePlan versions the hub did not hear about (it was down,
 * or the server's notification was lost) are found in the type-level `_history` since the last
 * checkpoint and queued as plan changes. The first scan only sets the checkpoint. Job ids are plan and version, so a version already
 * queued through the rest-hook or the hub's own write is not queued twice.
 * @returns how many versions were queued
 */
export async function catchUpPlanChanges(
  fhir: FhirGateway,
  redis: Redis,
  prefix: string,
  enqueue: (data: PlanChangeJobData) => Promise<void>,
  now: Date,
): Promise<number> {
  const key = `${prefix}:careplan-history-checkpoint`;
  const since = await redis.get(key);
  if (!since) {
    // A hub that never looked has nothing to catch up on: history before it is not its to route.
    await redis.set(key, now.toISOString());
    return 0;
  }
  const versions = await fhir.historySince<CarePlan>('CarePlan', since);
  for (const plan of versions) {
    if (plan.id && plan.meta?.versionId) {
      await enqueue({ carePlanId: plan.id, version: plan.meta.versionId, detectedBy: 'catch-up' });
    }
  }
  const latest = versions.at(-1)?.meta?.lastUpdated;
  if (latest) {
    await redis.set(key, latest);
  }
  return versions.length;
}
