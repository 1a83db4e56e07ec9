import type { CarePlan, Communication, Task } from 'fhir/r4.js';
import { HubError } from '../errors/hub-error.js';
import { changeResource } from '../fhir/change-resource.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import type { Identifier } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';

/** The identifier of one partner's acknowledgment Task for one plan version. */
export function ackTaskIdentifier(
  identifierBase: string,
  partnerId: string,
  carePlanId: string,
  version: string,
): Identifier {
  return hubIdentifier(identifierBase, 'ack-task', `${partnerId}.${carePlanId}.${version}`);
}

/** The acknowledgment Task of one partner for one plan version, if it exists. */
export async function findAckTask(
  fhir: FhirGateway,
  identifierBase: string,
  partnerId: string,
  carePlanId: string,
  version: string,
): Promise<Task | undefined> {
  const id = ackTaskIdentifier(identifierBase, partnerId, carePlanId, version);
  const [task] = await fhir.search<Task>('Task', { identifier: `${id.system}|${id.value}` });
  return task;
}

/**
 * The partner's open acknowledgment Tasks of a plan, any version. Acknowledging a plan without
 * naming a version (or through a server that strips versions from references) acknowledges what
 * the partner has received of it.
 */
export async function findOpenAckTasks(
  fhir: FhirGateway,
  partnerId: string,
  carePlanId: string,
): Promise<Task[]> {
  return fhir.search<Task>('Task', {
    owner: `Organization/${partnerId}`,
    'based-on': `CarePlan/${carePlanId}`,
    code: `${CODE_SYSTEM.taskCode}|acknowledge-plan-change`,
    status: 'requested',
  });
}

/** Whether a Task is one of the hub's plan-change acknowledgment Tasks. */
export function isAckTask(task: Task): boolean {
  return (
    task.code?.coding?.some(
      (c) => c.system === CODE_SYSTEM.taskCode && c.code === 'acknowledge-plan-change',
    ) ?? false
  );
}

/** The acknowledgment steps a partner reports, in order (FHIR Task states). */
export const ACK_STEPS = ['received', 'accepted', 'completed'] as const;
export type AckStep = (typeof ACK_STEPS)[number];

/**
 * Where an acknowledgment Task stands in the closed loop, read from the Task itself: its
 * identifier names partner, plan and version; its status the step.
 */
export function ackStepOf(
  task: Task,
): { partnerId: string; carePlanId: string; version: string; step: AckStep } | undefined {
  const about = ackTaskSubject(task);
  const step = stepOfStatus(task);
  return about && step ? { ...about, step } : undefined;
}

/** The acknowledgment step a Task's status stands for (`in-progress` is accepted), if any. */
export function stepOfStatus(task: Pick<Task, 'status'>): AckStep | undefined {
  const step = task.status === 'in-progress' ? 'accepted' : task.status;
  return (ACK_STEPS as readonly string[]).includes(step) ? (step as AckStep) : undefined;
}

/** Which partner's acknowledgment of which plan version a Task is, from its identifier. */
export function ackTaskSubject(
  task: Task,
): { partnerId: string; carePlanId: string; version: string } | undefined {
  const value = task.identifier?.find((i) => i.system?.endsWith('/sid/hub/ack-task'))?.value;
  const match = /^(.+)\.([^.]+)\.(\d+)$/.exec(value ?? '');
  return match ? { partnerId: match[1]!, carePlanId: match[2]!, version: match[3]! } : undefined;
}

/**
 * A partner reports on a plan version: received, accepted, or completed (the acknowledgment).
 * Only the Task's owner may, and a Task never moves backwards. Completing it tells the plan's
 * owner with an acknowledgment Communication. Idempotent.
 * @returns the Task as it now stands
 */
export async function acknowledge(
  fhir: FhirGateway,
  identifierBase: string,
  task: Task,
  partnerId: string,
  at: Date,
  step: AckStep = 'completed',
): Promise<Task> {
  if (task.owner?.reference !== `Organization/${partnerId}`) {
    throw new HubError(
      'ACK.NOT_OWNER',
      `Task/${task.id} is owned by ${task.owner?.reference ?? 'nobody'}, not Organization/${partnerId}`,
      {
        status: 403,
        issues: [
          {
            severity: 'error',
            code: 'forbidden',
            diagnostics: `Only the owner of Task/${task.id} may acknowledge it`,
            expression: ['Task.owner'],
          },
        ],
      },
    );
  }
  const updated = await advance(fhir, task, step, at);
  if (step === 'completed') {
    await notifyPlanOwner(fhir, identifierBase, updated, partnerId, at);
  }
  return updated;
}

/**
 * The Task moved on to `step` (never backwards), written with If-Match. When someone else changed
 * the Task in between (a report arriving two ways at once), it is read again and the step applied
 * to what is there, so the partner's report is not refused for a race it cannot see.
 */
function advance(fhir: FhirGateway, task: Task, step: AckStep, at: Date): Promise<Task> {
  return changeResource(fhir, task, (current) =>
    ACK_STEPS.indexOf(ackStepOf(current)?.step ?? ('' as AckStep)) >= ACK_STEPS.indexOf(step)
      ? undefined
      : {
          ...current,
          status: step,
          lastModified: at.toISOString(),
          executionPeriod:
            step === 'completed'
              ? { ...current.executionPeriod, end: at.toISOString() }
              : { start: current.executionPeriod?.start ?? at.toISOString() },
        },
  );
}

async function notifyPlanOwner(
  fhir: FhirGateway,
  identifierBase: string,
  task: Task,
  partnerId: string,
  at: Date,
): Promise<void> {
  const planId = /^CarePlan\/([^/]+)/.exec(task.focus?.reference ?? '')?.[1];
  const plan = planId ? await fhir.read<CarePlan>('CarePlan', planId) : undefined;
  const identifier = hubIdentifier(identifierBase, 'ack-notice', task.id!);
  const notice: Communication = {
    resourceType: 'Communication',
    identifier: [identifier],
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'acknowledgment' }] }],
    subject: task.for,
    about: task.focus ? [task.focus] : [],
    basedOn: [{ reference: `Task/${task.id}` }],
    // When the Task was completed, not when this ran: told again (a redelivered notification, the
    // history scan), the notice stays the same and the server keeps one version of it.
    sent: task.executionPeriod?.end ?? task.lastModified ?? task.meta?.lastUpdated ?? at.toISOString(),
    sender: { reference: `Organization/${partnerId}` },
    recipient: plan?.author ? [plan.author] : [],
    payload: [
      {
        contentString: `Organization/${partnerId} acknowledged ${task.focus?.reference ?? 'the plan change'}`,
      },
    ],
  };
  await fhir.upsertByIdentifier(notice, identifier);
}
