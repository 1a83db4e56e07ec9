import { randomUUID } from 'node:crypto';
import type { BundleEntry, Communication, Reference, Task } from 'fhir/r4.js';
import { coordinatorOfTheDay } from './coordinator.rules.js';
import type { CalendarsConfig } from './business-calendar.js';
import { escalationFor, type EscalationConfig } from './escalation-tiers.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { locationOf } from '../fhir/references.js';
import { hubTask } from '../fhir/hub-task.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { sharedCareTeam } from '../fhir/shared-care-team.js';

/** Something that must be escalated. */
export interface EscalationRequest {
  /** Trigger name from the tiers file, e.g. `missed-acknowledgment`. */
  readonly trigger: string;
  readonly patient: string;
  /** What it is about (the overdue Task, a Flag, an Encounter). */
  readonly focus: string;
  readonly detail: string;
  readonly at: Date;
  /**
   * The coordinator of the day at `at`, when whoever raised the escalation had just read the care
   * team (null: nobody coordinates that day); absent, the escalation reads the team itself.
   */
  readonly coordinator?: Reference | null;
}

/** What an escalation wrote. */
export interface EscalationResult {
  readonly trigger: string;
  readonly tierId: string;
  readonly notice: string;
  readonly task: string;
  /** The coordinator of the day, when there is one. */
  readonly coordinator?: Reference;
  /** The tier chair, or the on-call contact after hours. */
  readonly chair: Reference;
}

/**
 * Escalates to the named coordinator of the day and the tier's chair: an escalation notice
 * (Communication) to both, and an escalation-review Task owned by the coordinator (the chair when
 * nobody coordinates today), due per the tier on the chair agency's calendar. After hours a tier
 * marked `afterHours: on-call` goes to the chair agency's on-call contact. Idempotent on trigger and
 * focus.
 */
export async function escalate(
  fhir: FhirGateway,
  identifierBase: string,
  tiers: EscalationConfig,
  calendars: CalendarsConfig,
  req: EscalationRequest,
): Promise<EscalationResult> {
  const [result] = await escalateAll(fhir, identifierBase, tiers, calendars, [req]);
  return result!;
}

/**
 * {@link escalate} for several requests in one transaction (one rules run's escalations). The
 * care team is read only for requests that do not name the coordinator, once per participant; a
 * request repeated in the list is escalated once.
 */
export async function escalateAll(
  fhir: FhirGateway,
  identifierBase: string,
  tiers: EscalationConfig,
  calendars: CalendarsConfig,
  reqs: readonly EscalationRequest[],
): Promise<EscalationResult[]> {
  const unique = [...new Map(reqs.map((r) => [escalationKey(r), r])).values()];
  const unnamed = [...new Set(unique.filter((r) => r.coordinator === undefined).map((r) => r.patient))];
  const teams = new Map(
    await Promise.all(
      unnamed.map(
        async (patient) =>
          [patient, await sharedCareTeam(fhir, identifierBase, patient.split('/')[1] ?? '')] as const,
      ),
    ),
  );
  const planned = unique.map((req) =>
    escalationWrites(identifierBase, tiers, calendars, req, (at) =>
      req.coordinator !== undefined
        ? (req.coordinator ?? undefined)
        : coordinatorOfTheDay(teams.get(req.patient), at, calendars.timeZone),
    ),
  );
  if (planned.length === 0) {
    return [];
  }
  // One transaction: each notice is written (again, on a repeat), each review Task only if none
  // has its identifier, so a repeat never reopens a review the coordinator already closed.
  const answer = await fhir.transaction({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: planned.flatMap((p) => p.entries),
  });
  return planned.map((p, i) => ({
    ...p.result,
    notice: locationOf(answer, 2 * i).reference,
    task: locationOf(answer, 2 * i + 1).reference,
  }));
}

/**
 * The transaction entries (notice, review Task) of an escalation whose raiser named the
 * coordinator of the day (null: nobody), for the raiser to write beside its own changes in one
 * transaction; what {@link escalateAll} writes for it.
 */
export function escalationEntries(
  identifierBase: string,
  tiers: EscalationConfig,
  calendars: CalendarsConfig,
  req: EscalationRequest & { readonly coordinator: Reference | null },
): BundleEntry[] {
  return escalationWrites(identifierBase, tiers, calendars, req, () => req.coordinator ?? undefined).entries;
}

/** Trigger and focus: what makes two escalations the same one. */
export function escalationKey(req: Pick<EscalationRequest, 'trigger' | 'focus'>): string {
  return `${req.trigger}.${req.focus.replace(/\//g, '-')}`;
}

/** The notice and review Task of one escalation, as two transaction entries. */
function escalationWrites(
  identifierBase: string,
  tiers: EscalationConfig,
  calendars: CalendarsConfig,
  req: EscalationRequest,
  coordinatorOn: (at: Date) => Reference | undefined,
): { entries: BundleEntry[]; result: Omit<EscalationResult, 'notice' | 'task'> } {
  const { tierId, tier, dueAt, chair, afterHours } = escalationFor(tiers, calendars, req.trigger, req.at);
  const coordinator = coordinatorOn(req.at);
  const key = escalationKey(req);
  const noticeId = hubIdentifier(identifierBase, 'escalation-notice', key);
  const notice: Communication = {
    resourceType: 'Communication',
    identifier: [noticeId],
    status: 'completed',
    priority: tierId === 'same-day' ? 'urgent' : 'routine',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'escalation-notice' }] }],
    subject: { reference: req.patient },
    about: [{ reference: req.focus }],
    sent: req.at.toISOString(),
    recipient: [...(coordinator ? [coordinator] : []), chair],
    payload: [
      {
        contentString: `${tier.title}${afterHours ? ` (after hours: to the on-call contact; the chair's office opens ${afterHours.toISOString()})` : ''}: ${req.detail}${coordinator ? '' : ' No coordinator of the day is named for this participant.'}`,
      },
    ],
  };
  const taskId = hubIdentifier(identifierBase, 'escalation-task', key);
  // The notice's place in the transaction, for the review Task to point at.
  const noticeUrl = `urn:uuid:${randomUUID()}`;
  const task: Task = {
    ...hubTask({
      identifier: taskId,
      priority: tierId === 'same-day' ? 'urgent' : 'routine',
      code: 'escalation-review',
      description: req.detail,
      focus: req.focus,
      for: req.patient,
      owner: coordinator ?? chair,
      requester: chair,
      authoredOn: req.at.toISOString(),
      start: req.at.toISOString(),
      due: dueAt.toISOString(),
    }),
    input: [{ type: { text: 'escalation-notice' }, valueReference: { reference: noticeUrl } }],
  };
  return {
    entries: [
      {
        fullUrl: noticeUrl,
        resource: notice,
        request: { method: 'PUT', url: `Communication?identifier=${tokenOf(noticeId)}` },
      },
      {
        resource: task,
        request: { method: 'POST', url: 'Task', ifNoneExist: `identifier=${tokenOf(taskId)}` },
      },
    ],
    result: { trigger: req.trigger, tierId, chair, ...(coordinator ? { coordinator } : {}) },
  };
}
