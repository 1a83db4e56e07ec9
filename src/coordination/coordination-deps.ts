import type { BundleEntry, CareTeam, Reference, Task } from 'fhir/r4.js';
import type { PartnerRegistry } from '../config/partners.js';
import { changeResource } from '../fhir/change-resource.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';
import type { EscalationRequest } from './escalate.js';
import { sharedCareTeam } from '../fhir/shared-care-team.js';
import { tokenOf } from '../fhir/hub-identifiers.js';
import { calendarOf, dueAt, type DeadlineWindow } from './business-calendar.js';
import type { CoordinationConfig } from './coordination-config.js';
import { coordinatorOfTheDay } from './coordinator.rules.js';
import { owningAgency } from './decision-rights.js';
import {
  closeObligation,
  dueOf,
  isOpen,
  markOverdue,
  taskCodeOf,
  timelinessOf,
  type Closure,
} from './obligations.js';

/** What the coordination rules need from the rest of the hub. Queues are passed in as functions. */
export interface CoordinationDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly identifierBase: string;
  readonly config: CoordinationConfig;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Raises escalations together (one job); none is a no-op. */
  enqueueEscalations(reqs: readonly EscalationRequest[]): Promise<void>;
  /** Checks the Task at its due time; still open, it turns overdue and escalates as `escalateAs`. */
  scheduleObligationCheck(taskId: string, due: Date, escalateAs: string): Promise<void>;
  /** At `reviewBy`, checks whether a temporary support increase was reviewed. */
  scheduleSupportWindowCheck(check: SupportWindowCheck, reviewBy: Date): Promise<void>;
}

/** A temporary support increase whose stabilization window ends at `reviewBy`. */
export interface SupportWindowCheck {
  readonly patient: string;
  /** The crisis-update Communication that reported the increase. */
  readonly communication: string;
  readonly partnerId: string;
  readonly summary: string;
  readonly reportedAt: string;
}

/** The participant's care team as the rules see it: who is on it and who owns what. */
export interface CareContext {
  readonly patient: string;
  /** Partner ids on the shared CareTeam, in CareTeam order. */
  readonly agencies: readonly string[];
  readonly coordinator?: Reference;
  /** The coordinator of the day at another time (an escalation names the one of its own time). */
  coordinatorOn(at: Date): Reference | undefined;
  /** The member in a CareTeam role (e.g. the case manager), if any. */
  memberInRole(role: string): Reference | undefined;
  /** The agency owning obligations that exercise `right`, else the coordinator, else `fallback`. */
  ownerFor(right: string | undefined, fallback: Reference): Reference;
  /** The due time of a window starting at `start`, on the calendar of `owner`'s agency. */
  dueFor(owner: Reference, start: Date, window: DeadlineWindow): Date;
}

export function organizationRef(deps: Pick<CoordinationDeps, 'partners'>, partnerId: string): Reference {
  return { reference: `Organization/${partnerId}`, display: deps.partners.get(partnerId)?.name ?? partnerId };
}

function partnerIdOf(ref: Reference | undefined): string | undefined {
  return /^Organization\/([^/]+)$/.exec(ref?.reference ?? '')?.[1];
}

/**
 * The participant's shared CareTeam (the one the write left, when the record carries it; else read
 * once), answering the rules' questions about it.
 */
export async function careContext(
  deps: CoordinationDeps,
  patient: string,
  at: Date,
  known?: CareTeam | null,
): Promise<CareContext> {
  const team =
    known === undefined
      ? await sharedCareTeam(deps.fhir, deps.identifierBase, patient.split('/')[1] ?? '')
      : (known ?? undefined);
  const members = team?.participant ?? [];
  const agencies = [
    ...new Set(
      members
        .flatMap((m) => [partnerIdOf(m.member), partnerIdOf(m.onBehalfOf)])
        .filter((id): id is string => Boolean(id && deps.partners.get(id))),
    ),
  ];
  const coordinator = coordinatorOfTheDay(team, at, deps.config.calendars.timeZone);
  return {
    patient,
    agencies,
    ...(coordinator ? { coordinator } : {}),
    coordinatorOn: (when) => coordinatorOfTheDay(team, when, deps.config.calendars.timeZone),
    memberInRole: (role) =>
      members.find((m) => m.role?.some((r) => r.coding?.some((c) => c.code === role)))?.member,
    ownerFor: (right, fallback) => {
      const agency = right ? owningAgency(deps.config.rights, deps.partners, right, agencies) : undefined;
      return agency ? organizationRef(deps, agency) : (coordinator ?? fallback);
    },
    dueFor: (owner, start, window) =>
      dueAt(calendarOf(deps.config.calendars, partnerIdOf(owner)), start, window),
  };
}

/**
 * Closes an obligation read earlier, unless someone closed it meanwhile; a note or change made to it
 * in between is kept (If-Match, read again on conflict).
 */
export function closeIfOpen(
  deps: Pick<CoordinationDeps, 'fhir'>,
  task: Task,
  closure: Closure,
): Promise<Task> {
  return changeResource(deps.fhir, task, (current) =>
    isOpen(current) ? closeObligation(current, closure) : undefined,
  );
}

/** An obligation Task to open, and the trigger its escalation uses once it is overdue. */
export interface NewObligation {
  readonly task: Task;
  readonly escalateAs: string;
}

/**
 * The escalation of an obligation nobody met, to `coordinator` when the caller knows who
 * coordinates that day (null: nobody); absent, the escalation reads the care team.
 */
export function overdueEscalation(
  task: Task,
  escalateAs: string,
  at: Date,
  coordinator?: Reference | null,
): EscalationRequest {
  return {
    trigger: escalateAs,
    patient: task.for?.reference ?? '',
    focus: `Task/${task.id}`,
    detail: `${task.owner?.display ?? task.owner?.reference ?? 'The owner'} has not done "${task.description ?? taskCodeOf(task)}" (due ${task.restriction?.period?.end ?? 'unknown'})`,
    at,
    ...(coordinator !== undefined ? { coordinator } : {}),
  };
}

/**
 * Writes obligations in one transaction: each Task is created unless one with its identifier exists
 * (a repeated record must not reopen or re-date a Task someone already worked on), and its due-time
 * check is scheduled. A Task due already (a record that arrives after the window it opens, such as
 * a backdated export) is created overdue, and its escalation is answered for the caller to raise
 * with its own, naming the coordinator `care` names for the day: neither a check nor the
 * escalation reads anything back. `alongside` (the caller's escalations known before the write)
 * goes in the same transaction, after the obligations.
 */
export async function writeObligations(
  deps: Pick<CoordinationDeps, 'fhir' | 'scheduleObligationCheck' | 'now'>,
  obligations: readonly NewObligation[],
  care?: Pick<CareContext, 'coordinatorOn'>,
  alongside: readonly BundleEntry[] = [],
): Promise<WrittenObligations> {
  if (obligations.length === 0 && alongside.length === 0) {
    return { escalations: [], tasks: [] };
  }
  const now = deps.now();
  const answer = await deps.fhir.transaction(
    {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        ...obligations.map(({ task }): BundleEntry => {
          const [id] = task.identifier ?? [];
          if (!id) {
            throw new Error('an obligation Task needs an identifier, so a repeat does not open it twice');
          }
          const dueAlready = (dueOf(task)?.getTime() ?? Infinity) <= now.getTime();
          return {
            resource: dueAlready ? markOverdue(task, now) : task,
            request: { method: 'POST', url: 'Task', ifNoneExist: `identifier=${tokenOf(id)}` },
          };
        }),
        ...alongside,
      ],
    },
    { returnResources: true },
  );
  const escalations: EscalationRequest[] = [];
  const tasks: Task[] = [];
  for (const [i, { escalateAs }] of obligations.entries()) {
    const entry = answer.entry?.[i];
    const task = entry?.resource as Task | undefined;
    if (!task?.id) {
      throw new Error(`the FHIR server did not return obligation ${i} of the transaction`);
    }
    tasks.push(task);
    const created = entry?.response?.status?.startsWith('201') ?? false;
    const due = task.restriction?.period?.end;
    if (created && timelinessOf(task) === 'overdue') {
      escalations.push(
        overdueEscalation(task, escalateAs, now, care ? (care.coordinatorOn(now) ?? null) : undefined),
      );
    } else if (due) {
      await deps.scheduleObligationCheck(task.id, new Date(due), escalateAs);
    }
  }
  return { escalations, tasks };
}

/** What {@link writeObligations} wrote. */
export interface WrittenObligations {
  /** Escalations of obligations created overdue, for the caller to raise. */
  readonly escalations: EscalationRequest[];
  /** Each obligation as the server holds it now (created, or the one its identifier found). */
  readonly tasks: Task[];
}

/** {@link writeObligations}, raising the escalations it answers. */
export async function openObligations(
  deps: Pick<CoordinationDeps, 'fhir' | 'scheduleObligationCheck' | 'enqueueEscalations' | 'now'>,
  obligations: readonly NewObligation[],
  care?: Pick<CareContext, 'coordinatorOn'>,
): Promise<void> {
  await deps.enqueueEscalations((await writeObligations(deps, obligations, care)).escalations);
}
