import type { Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { acknowledge, ackStepOf, isAckTask, type AckStep } from './acknowledge.js';
import type { DeliveryStatusStore } from './delivery-status.js';

export interface AcknowledgmentDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly status: DeliveryStatusStore;
  readonly now: () => Date;
}

/**
 * The one door for a partner's report on a plan version, however it arrives (the acknowledgment
 * API, a Task or Communication in a partner's record, the partner moving its Task on the FHIR
 * server): the Task moves on (owner only, never backwards), completion tells the plan's owner,
 * and the delivery status shows the step. Idempotent, so every door may call it again.
 * @returns the Task as it now stands
 */
export async function recordAcknowledgment(
  deps: AcknowledgmentDeps,
  task: Task,
  partnerId: string,
  step: AckStep = 'completed',
): Promise<Task> {
  const at = deps.now();
  const updated = await acknowledge(deps.fhir, deps.identifierBase, task, partnerId, at, step);
  await deps.status.markFromTask(updated, at);
  return updated;
}

/**
 * A partner moved its acknowledgment Task on directly on the FHIR server (seen by the rest-hook or
 * the history scan): the step is recorded, and on completion the plan's owner told; the Task
 * itself is already where the partner put it.
 */
export async function recordTaskMovedOnServer(deps: AcknowledgmentDeps, taskId: string): Promise<void> {
  const task = await deps.fhir.read<Task>('Task', taskId);
  const step = isAckTask(task) ? ackStepOf(task) : undefined;
  if (step) {
    await recordAcknowledgment(deps, task, step.partnerId, step.step);
  }
}
