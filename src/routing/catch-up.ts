import type { CarePlan, Task } from 'fhir/r4.js';
import { versionsSinceCheckpoint, type Checkpoints, type HistorySource } from '../fhir/history-checkpoint.js';
import type { PlanChangeJobData } from './plan-changes.queue.js';
import { ackStepOf, isAckTask } from './acknowledge.js';
import { recordTaskStep, type AcknowledgmentDeps } from './record-acknowledgment.js';

/**
 * How far before the checkpoint each scan looks again (fhir/history-checkpoint.ts). Handling a
 * version twice is harmless: plan-change job ids are plan and version; recording an acknowledgment
 * step is idempotent.
 */
export const CATCH_UP_OVERLAP_MS = 5 * 60_000;

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
    CATCH_UP_OVERLAP_MS,
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
    CATCH_UP_OVERLAP_MS,
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
