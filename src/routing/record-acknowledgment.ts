import type { Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { acknowledge, ackStepOf, findAckTask, isAckTask, type AckStep } from './acknowledge.js';
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

/** How long an answer that came before its Task looks for it again (the Task follows in milliseconds). */
const ACK_TASK_WAIT_MS = 5_000;

/**
 * A partner's acknowledgment Task for a plan version, found by plan and version. A plan change is
 * delivered before its acknowledgment Tasks are written (README "The closed loop"), so a partner
 * that answers at once can come before its Task: when the version was sent to it, the Task is
 * looked for again for a few seconds. Anything else without a Task is answered at once.
 */
export async function ackTaskFor(
  deps: Pick<AcknowledgmentDeps, 'fhir' | 'identifierBase' | 'status'>,
  partnerId: string,
  carePlanId: string,
  version: string,
  waitMs = ACK_TASK_WAIT_MS,
): Promise<Task | undefined> {
  const find = (): Promise<Task | undefined> =>
    findAckTask(deps.fhir, deps.identifierBase, partnerId, carePlanId, version);
  const first = await find();
  if (first || !(await wasSent(deps, partnerId, carePlanId, version))) {
    return first;
  }
  // Sent stays sent: only the Task is looked for again.
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await sleep(200);
    const task = await find();
    if (task) {
      return task;
    }
  }
  return undefined;
}

async function wasSent(
  deps: Pick<AcknowledgmentDeps, 'status'>,
  partnerId: string,
  carePlanId: string,
  version: string,
): Promise<boolean> {
  const statuses = await deps.status.list(carePlanId, version);
  return statuses.some((s) => s.partnerId === partnerId && s.at.sent !== undefined);
}
