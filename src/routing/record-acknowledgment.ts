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
 * An acknowledgment Task already moved on where it is stored (in a partner's record, or directly
 * on the FHIR server, seen by the rest-hook or the history scan): the step it stands at is
 * recorded, and on completion the plan's owner told. `reportedBy` is the partner whose record
 * carried it (it must own the Task); without it, the Task's own partner.
 */
export async function recordTaskStep(
  deps: AcknowledgmentDeps,
  taskId: string,
  reportedBy?: string,
): Promise<void> {
  const task = await deps.fhir.read<Task>('Task', taskId);
  const step = isAckTask(task) ? ackStepOf(task) : undefined;
  if (step) {
    await recordAcknowledgment(deps, task, reportedBy ?? step.partnerId, step.step);
  }
}
