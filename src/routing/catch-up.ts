import type { CarePlan, Resource, Task } from 'fhir/r4.js';
import type { Redis } from 'ioredis';
import type { PlanChangeJobData } from './plan-changes.queue.js';
import { ackStepOf, isAckTask } from './acknowledge.js';
import { recordTaskStep, type AcknowledgmentDeps } from './record-acknowledgment.js';

/**
 * How far before the checkpoint each scan looks again. A transaction is stamped when it starts and
 * seen when it commits, so a version can appear after a later-stamped one was already scanned;
 * handling a version twice is harmless (plan-change job ids are plan and version; recording an
 * acknowledgment step is idempotent).
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

type Checkpoints = Pick<Redis, 'get' | 'set'>;

/**
 * The safety net under the rest-hooks: the versions of a resource type written since the last
 * checkpoint (less an overlap, every page), oldest first. The first scan only sets the checkpoint,
 * from the server's own clock: history before the hub looked is not its to act on.
 */
async function versionsSinceCheckpoint<T extends Resource>(
  fhir: HistorySource,
  redis: Checkpoints,
  key: string,
  resourceType: T['resourceType'],
): Promise<{ versions: T[]; commit: () => Promise<void> }> {
  const checkpoint = await redis.get(key);
  if (!checkpoint) {
    await redis.set(key, (await fhir.latestVersionTime(resourceType)) ?? new Date(0).toISOString());
    return { versions: [], commit: async () => undefined };
  }
  const since = new Date(Date.parse(checkpoint) - CATCH_UP_OVERLAP_MS).toISOString();
  const versions = await fhir.historySince<T>(resourceType, since, Number.POSITIVE_INFINITY);
  const latest = versions.at(-1)?.meta?.lastUpdated;
  return {
    versions,
    // Moved on only once every version was handled, and never back.
    commit: async () => {
      if (latest && Date.parse(latest) > Date.parse(checkpoint)) {
        await redis.set(key, latest);
      }
    },
  };
}

/**
 * CarePlan versions the hub did not hear about (it was down, or the server's notification was
 * lost), queued as plan changes. Job ids are plan and version, so a version already queued through
 * the rest-hook or the hub's own write is not queued twice.
 * @returns how many versions were scanned
 */
export async function catchUpPlanChanges(
  fhir: HistorySource,
  redis: Checkpoints,
  prefix: string,
  enqueue: (data: PlanChangeJobData) => Promise<void>,
): Promise<number> {
  const { versions, commit } = await versionsSinceCheckpoint<CarePlan>(
    fhir,
    redis,
    `${prefix}:careplan-history-checkpoint`,
    'CarePlan',
  );
  for (const plan of versions) {
    if (plan.id && plan.meta?.versionId) {
      await enqueue({ carePlanId: plan.id, version: plan.meta.versionId, detectedBy: 'catch-up' });
    }
  }
  await commit();
  return versions.length;
}

/**
 * Acknowledgment Tasks partners moved on directly on the FHIR server that no notification
 * reported: each recorded as the rest-hook would have (the step, and on completion the notice to
 * the plan's owner).
 * @returns how many acknowledgment Tasks were looked at
 */
export async function catchUpAcknowledgments(
  deps: AcknowledgmentDeps & { readonly fhir: HistorySource },
  redis: Checkpoints,
  prefix: string,
): Promise<number> {
  const { versions, commit } = await versionsSinceCheckpoint<Task>(
    deps.fhir,
    redis,
    `${prefix}:ack-task-history-checkpoint`,
    'Task',
  );
  // Only versions that report a step (received, accepted, completed): the hub's own writes of
  // the Task (opening it, its due time) have nothing to record.
  const ackTasks = new Set(
    versions.filter((t) => isAckTask(t) && ackStepOf(t)).flatMap((t) => (t.id ? [t.id] : [])),
  );
  for (const id of ackTasks) {
    await recordTaskStep(deps, id);
  }
  await commit();
  return ackTasks.size;
}
