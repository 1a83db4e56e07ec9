import type { CarePlan, Communication, Task } from 'fhir/r4.js';
import { HubError } from '../errors/hub-error.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';

/** The acknowledgment Task of one partner for one plan version, if it exists. */
export async function findAckTask(
  fhir: FhirGateway,
  identifierBase: string,
  partnerId: string,
  carePlanId: string,
  version: string,
): Promise<Task | undefined> {
  const id = hubIdentifier(identifierBase, 'ack-task', `${partnerId}.${carePlanId}.${version}`);
  const [task] = await fhir.search<Task>('Task', { identifier: `${id.system}|${id.value}` });
  return task;
}

/**
 * The partner's open acknowledgment Tasks of a plan, any version. Acknowledging a plan without
 * naming a version (or through a server that strips versions from references) acknowledges what
 * the partner has received of it.
 */
export async function openAckTasks(
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

/**
 * A partner acknowledges a plan version: its Task is completed and the plan's owner is told with
 * an acknowledgment Communication. Only the Task's owner may acknowledge it. Idempotent: a second
 * acknowledgment changes nothing.
 * @returns the completed Task
 */
export async function acknowledge(
  fhir: FhirGateway,
  identifierBase: string,
  task: Task,
  partnerId: string,
  at: Date,
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
  const completed: Task =
    task.status === 'completed'
      ? task
      : await fhir.update<Task>(
          {
            ...task,
            status: 'completed',
            lastModified: at.toISOString(),
            executionPeriod: { ...task.executionPeriod, end: at.toISOString() },
          },
          { ifMatch: task.meta?.versionId },
        );
  await notifyPlanOwner(fhir, identifierBase, completed, partnerId, at);
  return completed;
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
    sent: at.toISOString(),
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
