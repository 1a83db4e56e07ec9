import type { CareTeam, Communication, Encounter, Flag, Reference, Task } from 'fhir/r4.js';
import type { HubEvent } from '../mappers/types.js';
import { escalationEntries, escalationKey, type EscalationRequest } from './escalate.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { changeResource } from '../fhir/change-resource.js';
import { relativeReference } from '../fhir/references.js';
import {
  careContext,
  openObligations,
  organizationRef,
  writeObligations,
  closeIfOpen,
  overdueEscalation,
  type CareContext,
  type CoordinationDeps,
  type NewObligation,
  type SupportWindowCheck,
} from './coordination-deps.js';
import { authorizationReviewTask, nextUpdateDue, nextUpdateTask } from './crisis.rules.js';
import { rightOfTaskCode } from './decision-rights.js';
import { documentationTask, recordKindOf, requirementsFor } from './documentation.rules.js';
import { closeObligation, isOpen, markOverdue, taskCodeOf, timelinessOf } from './obligations.js';
import { planChangeTriggers, reviewTask } from './plan-change-control.js';
import { sprintIdentifier, sprintTasks } from './post-discharge-sprint.js';
import {
  answerableCodes,
  answeredOrSearch,
  openCrisisUpdatesQuery,
  owedByQuery,
  recordKinds,
  OWED,
  type AnsweredSearches,
} from './rules-searches.js';

/** A record the hub wrote, as the coordination rules see it. */
export interface AppliedRecord {
  readonly partnerId: string;
  readonly patient: string;
  /** fullUrl -> `Type/id` of every write. */
  readonly written: Readonly<Record<string, string>>;
  /** `Type/id` -> the version the write left it at. */
  readonly versions: Readonly<Record<string, string>>;
  readonly events: readonly HubEvent[];
  /**
   * The participant's shared CareTeam as the write left it (null: none), so the rules need not
   * read it back; absent (an older job, a write that did not know it): the rules read it.
   */
  readonly careTeam?: CareTeam | null;
  /**
   * What the rules look at of the Communications, Flags and Tasks the record wrote (`Type/id` ->
   * their categories, code, or status and due time), as the record sent them, so they need not be
   * read back; absent for one (an older job): the rules read it.
   */
  readonly asSent?: Readonly<Record<string, SentFacts>>;
  /**
   * The rules' searches the record's own transaction made after its writes, by URL
   * (rules-searches.ts); a search not among them is made by the rules.
   */
  readonly answered?: AnsweredSearches;
}

/** What the rules look at of a Communication, a Flag or a Task. */
export type SentFacts =
  LookedAt | Pick<Task, 'resourceType' | 'status' | 'businessStatus' | 'restriction' | 'code'>;
type LookedAt = Pick<Communication, 'resourceType' | 'category'> | Pick<Flag, 'resourceType' | 'code'>;

/**
 * Applies the operating model to one record the hub wrote: each event opens the obligations the
 * configuration asks for (post-discharge sprint, documentation, crisis updates, authorization
 * reviews, plan-change reviews) and escalates per tier; records that answer open obligations
 * (documentation, a later crisis update, a plan version, a completed Task) close them on time or late.
 * The obligations the events open are written together, in one transaction, before the record's
 * own resources are looked at (a record may answer an obligation it opens).
 */
export async function applyCoordinationRules(deps: CoordinationDeps, record: AppliedRecord): Promise<void> {
  const at = deps.now();
  const resolve = (ref: string): string => record.written[ref] ?? ref;
  const events = record.events.map((event) => resolveEvent(event, resolve));
  // The care team, what the rules look at of the record's own resources and what its events ask
  // about (the open crisis updates, the recent missed visits, whether a discharge still stands),
  // read together (one batch).
  const versions = Object.entries(record.versions);
  const sender = organizationRef(deps, record.partnerId);
  const answerable = answerableCodes(
    versions.map(([reference]) => ({
      type: relativeReference(reference)?.type,
      sent: record.asSent?.[reference],
    })),
  );
  const [care, resources, owedBySender, openCrisisUpdates, missedVisits, discharged] = await Promise.all([
    careContext(deps, record.patient, at, record.careTeam),
    Promise.all(
      versions.map(([reference, version]) => lookedAt(deps, reference, version, record.asSent?.[reference])),
    ),
    answerable.length > 0
      ? answeredOrSearch<Task>(
          deps.fhir,
          record.answered,
          owedByQuery(record.patient, answerable, sender.reference ?? ''),
        )
      : [],
    events.some((e) => e.type === 'crisis-update')
      ? answeredOrSearch<Task>(
          deps.fhir,
          record.answered,
          openCrisisUpdatesQuery(record.patient, record.partnerId),
        )
      : [],
    Promise.all(
      events.map(async (e) =>
        e.type === 'missed-visit' ? recentMissedVisits(deps, record.patient, new Date(e.at)) : 0,
      ),
    ),
    Promise.all(events.map(async (e) => e.type === 'discharge' && stillDischarged(deps, e.encounter))),
  ]);
  const out: RulesOutput = { opening: [], escalating: [], opened: new Map() };
  const sprints: string[] = [];

  for (const [i, e] of events.entries()) {
    out.opening.push(...documentationObligations(deps, care, e, sender));
    switch (e.type) {
      case 'discharge':
        if (discharged[i]) {
          out.opening.push(...sprintObligations(deps, care, e, sender));
          sprints.push(e.encounter);
        }
        break;
      case 'discharge-cancelled':
        await cancelSprint(deps, e.encounter);
        break;
      case 'crisis-update':
        await onCrisisUpdate(deps, care, e, record.partnerId, openCrisisUpdates, sender, out);
        break;
      case 'admission':
      case 'admission-cancelled':
      case 'missed-visit':
      case 'plan-change-trigger':
      case 'service-plan':
        break;
    }
    for (const trigger of planChangeTriggers(deps.config.planChange, e, missedVisits[i] ?? 0)) {
      planReview(deps, care, trigger, focusOf(e), new Date(e.at), sender, out);
    }
  }
  const raiseLater = await writeRaised(deps, care, out);
  // A cancellation applied while the steps were being opened may have looked for them too early.
  for (const encounter of sprints) {
    if (!(await stillDischarged(deps, encounter))) {
      await cancelSprint(deps, encounter);
    }
  }
  // What the record answers: the sender's obligations owed before it, and those it just opened.
  const owed = new Map([...owedBySender.map((t) => [t.id!, t] as const), ...out.opened]);
  await onWrittenResources(deps, care, versions, resources, owed, sender, at, out);
  raiseLater.push(...(await writeRaised(deps, care, out)));
  await deps.enqueueEscalations(raiseLater);
}

/**
 * Writes what the run raised so far in one transaction, emptying `out`: the obligations, and the
 * escalations that name the coordinator (each once). Answers the escalations left for the
 * escalations queue: those that must read the care team, and those of obligations that turned
 * out new and overdue already (known only from the transaction's answer).
 */
async function writeRaised(
  deps: CoordinationDeps,
  care: CareContext,
  out: RulesOutput,
): Promise<EscalationRequest[]> {
  const { tiers, calendars } = deps.config;
  const escalations = [...new Map(out.escalating.splice(0).map((r) => [escalationKey(r), r])).values()];
  const named = escalations.filter(hasCoordinator);
  const later = escalations.filter((r) => !hasCoordinator(r));
  const alongside = named.flatMap((r) => escalationEntries(deps.identifierBase, tiers, calendars, r));
  const written = await writeObligations(deps, out.opening.splice(0), care, alongside);
  later.push(...written.escalations);
  for (const task of written.tasks) {
    out.opened.set(task.id!, task);
  }
  for (const r of named) {
    deps.logger.info({ trigger: r.trigger, focus: r.focus }, 'escalated');
  }
  return later;
}

function hasCoordinator(
  req: EscalationRequest,
): req is EscalationRequest & { readonly coordinator: Reference | null } {
  return req.coordinator !== undefined;
}

/**
 * What one run of the rules raises, sent together at its end: the obligations to open (one
 * transaction) and the escalations (one job).
 */
interface RulesOutput {
  readonly opening: NewObligation[];
  readonly escalating: EscalationRequest[];
  /** The obligations written so far, by id, as the server answered them. */
  readonly opened: Map<string, Task>;
}

function resolveEvent(event: HubEvent, resolve: (ref: string) => string): HubEvent {
  switch (event.type) {
    case 'missed-visit':
      return { ...event, flag: resolve(event.flag), task: resolve(event.task) };
    case 'plan-change-trigger':
      return { ...event, focus: resolve(event.focus) };
    case 'crisis-update':
      return { ...event, communication: resolve(event.communication) };
    case 'service-plan':
      return { ...event, carePlan: resolve(event.carePlan) };
    case 'admission':
    case 'admission-cancelled':
    case 'discharge':
    case 'discharge-cancelled':
      return { ...event, encounter: resolve(event.encounter) };
  }
}

/** What an event is about: the resource obligations it opens point at. */
function focusOf(e: HubEvent): string {
  switch (e.type) {
    case 'missed-visit':
      return e.task;
    case 'plan-change-trigger':
      return e.focus;
    case 'crisis-update':
      return e.communication;
    case 'service-plan':
      return e.carePlan;
    case 'admission':
    case 'admission-cancelled':
    case 'discharge':
    case 'discharge-cancelled':
      return e.encounter;
  }
}

function documentationObligations(
  deps: CoordinationDeps,
  care: CareContext,
  e: HubEvent,
  sender: Reference,
): NewObligation[] {
  const { documentation } = deps.config;
  return requirementsFor(documentation, e).map((req) => {
    const owner = req.owner === 'sender' ? sender : care.ownerFor(req.owner.slice('right:'.length), sender);
    const eventAt = new Date(e.at);
    return {
      task: documentationTask(req, {
        identifierBase: deps.identifierBase,
        patient: care.patient,
        focus: focusOf(e),
        eventAt,
        owner,
        due: care.dueFor(owner, eventAt, documentation.window),
      }),
      escalateAs: documentation.escalateAs,
    };
  });
}

/** The post-discharge sprint's steps, for a discharge the caller found still standing. */
function sprintObligations(
  deps: CoordinationDeps,
  care: CareContext,
  e: Extract<HubEvent, { type: 'discharge' }>,
  sender: Reference,
): NewObligation[] {
  const { rights, sprint } = deps.config;
  return sprintTasks(sprint, {
    identifierBase: deps.identifierBase,
    patient: care.patient,
    encounter: e.encounter,
    dischargeAt: new Date(e.at),
    ownerOf: (code) => care.ownerFor(rightOfTaskCode(rights, code), sender),
    requester: sender,
  }).map((task) => ({ task, escalateAs: 'missed-sprint-step' }));
}

/**
 * The visit as it now stands, not as the event said: these rules may run after a later message
 * (an A13 cancelling the discharge) was applied and its own rules already ran.
 */
async function stillDischarged(deps: CoordinationDeps, encounter: string): Promise<boolean> {
  const [type, id] = encounter.split('/');
  if (type !== 'Encounter' || !id) {
    return true;
  }
  return (await deps.fhir.readIfPresent<Encounter>('Encounter', id))?.status === 'finished';
}

/** A cancelled discharge (A13) withdraws the sprint steps nobody has finished. */
async function cancelSprint(deps: CoordinationDeps, encounter: string): Promise<void> {
  const group = sprintIdentifier(deps.identifierBase, encounter);
  const tasks = await deps.fhir.search<Task>('Task', {
    'group-identifier': `${group.system}|${group.value}`,
  });
  for (const task of tasks.filter(isOpen)) {
    await changeResource(deps.fhir, task, (current) =>
      isOpen(current)
        ? {
            ...current,
            status: 'cancelled' as const,
            statusReason: { text: 'The discharge was cancelled' },
            lastModified: deps.now().toISOString(),
          }
        : undefined,
    );
  }
}

async function onCrisisUpdate(
  deps: CoordinationDeps,
  care: CareContext,
  e: Extract<HubEvent, { type: 'crisis-update' }>,
  partnerId: string,
  earlier: readonly Task[],
  sender: Reference,
  out: RulesOutput,
): Promise<void> {
  const { crisis } = deps.config;
  const at = new Date(e.at);
  // This update is the next update the earlier ones asked of this agency.
  for (const task of earlier.filter((t) => t.focus?.reference !== e.communication)) {
    await closeIfOpen(deps, task, {
      outcome: 'completed',
      at: deps.now(),
      by: sender,
      note: `Next update received: ${e.communication}`,
    });
  }
  const caseManager =
    care.memberInRole(crisis.caseManagerRole) ?? care.ownerFor(crisis.caseManagerRight, sender);
  if (e.thresholds.length > 0) {
    const mostUrgent = [...e.thresholds].sort(
      (a, b) =>
        care.dueFor(sender, at, crisis.updateWithin[a]!).getTime() -
        care.dueFor(sender, at, crisis.updateWithin[b]!).getTime(),
    )[0]!;
    out.escalating.push({
      trigger: mostUrgent,
      patient: care.patient,
      focus: e.communication,
      detail: `Crisis update crossed communication thresholds: ${e.thresholds.join(', ')}`,
      at,
      coordinator: care.coordinatorOn(at) ?? null,
    });
    out.opening.push({
      task: nextUpdateTask({
        identifierBase: deps.identifierBase,
        patient: care.patient,
        communication: e.communication,
        thresholds: e.thresholds,
        supervisor: e.supervisor,
        caseManager,
        requester: sender,
        at,
        due: nextUpdateDue(crisis, e.thresholds, new Date(e.nextReviewAt), (w) => care.dueFor(sender, at, w)),
      }),
      escalateAs: crisis.escalateAs,
    });
  }
  if (e.support) {
    if (e.support.exceedsAuthorizedScope) {
      out.opening.push(
        authorizationReview(
          deps,
          care,
          {
            patient: care.patient,
            communication: e.communication,
            partnerId,
            summary: e.support.summary,
            reportedAt: e.at,
          },
          'exceeds-scope',
          caseManager,
        ),
      );
    }
    await deps.scheduleSupportWindowCheck(
      {
        patient: care.patient,
        communication: e.communication,
        partnerId,
        summary: e.support.summary,
        reportedAt: e.at,
      },
      new Date(e.support.reviewBy),
    );
  }
}

function authorizationReview(
  deps: CoordinationDeps,
  care: CareContext,
  check: SupportWindowCheck,
  reason: 'exceeds-scope' | 'past-window',
  caseManager: Reference,
): NewObligation {
  const at = deps.now();
  return {
    task: authorizationReviewTask({
      identifierBase: deps.identifierBase,
      patient: check.patient,
      communication: check.communication,
      summary: check.summary,
      reason,
      owner: caseManager,
      requester: organizationRef(deps, check.partnerId),
      at,
      due: care.dueFor(caseManager, at, deps.config.crisis.authorizationReview),
    }),
    escalateAs: deps.config.crisis.escalateAs,
  };
}

/**
 * At the end of a temporary support increase's stabilization window: unless a later crisis update
 * from the same agency has reported on the participant since, the case manager must review the
 * authorization.
 */
export async function checkSupportWindow(
  deps: CoordinationDeps,
  check: SupportWindowCheck,
): Promise<'reviewed' | 'review-opened'> {
  const later = await deps.fhir.search<Communication>('Communication', {
    subject: check.patient,
    category: `${CODE_SYSTEM.communicationCategory}|crisis-update`,
    sender: `Organization/${check.partnerId}`,
    sent: `gt${check.reportedAt}`,
  });
  if (later.length > 0) {
    return 'reviewed';
  }
  const care = await careContext(deps, check.patient, deps.now());
  const { crisis } = deps.config;
  const sender = organizationRef(deps, check.partnerId);
  const caseManager =
    care.memberInRole(crisis.caseManagerRole) ?? care.ownerFor(crisis.caseManagerRight, sender);
  await openObligations(deps, [authorizationReview(deps, care, check, 'past-window', caseManager)], care);
  return 'review-opened';
}

async function recentMissedVisits(deps: CoordinationDeps, patient: string, at: Date): Promise<number> {
  const since = new Date(at.getTime() - deps.config.planChange.repeatedMissedVisits.withinDays * 86_400_000);
  const tasks = await deps.fhir.search<Task>('Task', {
    patient,
    code: `${CODE_SYSTEM.taskCode}|missed-visit-follow-up`,
    'authored-on': `ge${since.toISOString()}`,
  });
  return tasks.length;
}

/** A plan-change trigger: escalated, and a plan review opened. */
function planReview(
  deps: CoordinationDeps,
  care: CareContext,
  trigger: string,
  focus: string,
  at: Date,
  sender: Reference,
  out: RulesOutput,
): void {
  const { planChange } = deps.config;
  const owner = care.ownerFor(planChange.reviewRight, sender);
  out.escalating.push({
    trigger,
    patient: care.patient,
    focus,
    detail: `Plan-change trigger: ${planChange.triggers[trigger]!.title}`,
    at,
    coordinator: care.coordinatorOn(at) ?? null,
  });
  out.opening.push({
    task: reviewTask(planChange, trigger, {
      identifierBase: deps.identifierBase,
      patient: care.patient,
      focus,
      at,
      owner,
      due: care.dueFor(owner, at, planChange.triggers[trigger]!.review),
    }),
    escalateAs: planChange.escalateAs,
  });
}

/**
 * Resources the record wrote that answer or raise obligations: a documentation record closes the
 * sender's open documentation Tasks of its kind; a new caregiver-burnout flag opens a plan review;
 * a new CarePlan version closes open plan-change reviews (the write guard made sure it states its
 * change control); a hub Task the partner closed itself is stamped on time or late. `resources`
 * are what {@link lookedAt} found of each, and `owed` the obligations the sender owed (searched
 * beside them, and opened by this run), each taken out once closed.
 */
async function onWrittenResources(
  deps: CoordinationDeps,
  care: CareContext,
  versions: readonly (readonly [string, string])[],
  resources: readonly (LookedAt | Task | undefined)[],
  owed: Map<string, Task>,
  sender: Reference,
  at: Date,
  out: RulesOutput,
): Promise<void> {
  for (const [i, [reference, version]] of versions.entries()) {
    const resource = resources[i];
    if (resource?.resourceType === 'Communication') {
      for (const kind of recordKinds(resource)) {
        await closeOwed(
          deps,
          owed,
          'documentation-24h',
          sender,
          at,
          `Recorded as ${reference}`,
          (t) => recordKindOf(t) === kind,
        );
      }
    }
    if (resource?.resourceType === 'Flag') {
      const code = resource.code.coding?.find((c) => c.system === CODE_SYSTEM.riskFlag)?.code;
      if (
        code &&
        deps.config.planChange.caregiverBurnoutFlags.includes(code) &&
        deps.config.planChange.triggers['caregiver-burnout']
      ) {
        planReview(deps, care, 'caregiver-burnout', reference, at, sender, out);
      }
    }
    if (relativeReference(reference)?.type === 'CarePlan') {
      await closeOwed(
        deps,
        owed,
        'plan-change-review',
        sender,
        at,
        `Answered by ${reference}/_history/${version}`,
      );
    }
    if (resource?.resourceType === 'Task') {
      const task = resource;
      if (unstamped(task)) {
        await changeResource(deps.fhir, task, (current) =>
          unstamped(current) ? closeObligation(current, { outcome: 'completed', at, by: sender }) : undefined,
        );
      }
    }
  }
}

/** A partner closed its obligation without saying when: the rules stamp the timeliness once. */
function unstamped(t: Pick<Task, 'status' | 'businessStatus' | 'restriction' | 'code'>): boolean {
  return (
    t.status === 'completed' &&
    !timelinessOf(t) &&
    !!t.restriction?.period?.end &&
    taskCodeOf(t) !== 'acknowledge-plan-change'
  );
}

/**
 * The written resource the rules look at (a Communication, a Flag at its first version, a Task
 * they must stamp), if any: as the record sent it, when the job says, else read (a Task to stamp
 * is read, for the version it changes).
 */
async function lookedAt(
  deps: CoordinationDeps,
  reference: string,
  version: string,
  sent: SentFacts | undefined,
): Promise<LookedAt | Task | undefined> {
  const ref = relativeReference(reference);
  switch (ref?.type) {
    case 'Communication':
      return sent?.resourceType === 'Communication'
        ? sent
        : deps.fhir.read<Communication>('Communication', ref.id);
    case 'Task':
      return sent?.resourceType === 'Task' && !unstamped(sent)
        ? undefined
        : deps.fhir.read<Task>('Task', ref.id);
    case 'Flag':
      if (version !== '1') {
        return undefined;
      }
      return sent?.resourceType === 'Flag' ? sent : deps.fhir.read<Flag>('Flag', ref.id);
    case undefined:
    default:
      return undefined;
  }
}

/**
 * Closes the obligations of `code` in `owed` that the sender owes (and that match `filter`),
 * taking each closed one out of `owed`.
 */
async function closeOwed(
  deps: CoordinationDeps,
  owed: Map<string, Task>,
  code: string,
  sender: Reference,
  at: Date,
  note: string,
  filter: (task: Task) => boolean = () => true,
): Promise<void> {
  for (const [id, task] of owed) {
    if (
      taskCodeOf(task) === code &&
      task.owner?.reference === sender.reference &&
      OWED.includes(task.status) &&
      filter(task)
    ) {
      owed.delete(id);
      await closeIfOpen(deps, task, { outcome: 'completed', at, by: sender, note });
    }
  }
}

/**
 * At an obligation's due time: if it is still open it turns overdue (the roster shows it) and
 * escalates as configured for its kind.
 */
export async function checkObligation(
  deps: CoordinationDeps,
  taskId: string,
  escalateAs: string,
): Promise<'closed' | 'escalated'> {
  const task = await deps.fhir.read<Task>('Task', taskId);
  if (!isOpen(task)) {
    return 'closed';
  }
  const at = deps.now();
  const overdue = await changeResource(deps.fhir, task, (current) =>
    isOpen(current) && timelinessOf(current) !== 'overdue' ? markOverdue(current, at) : undefined,
  );
  if (!isOpen(overdue)) {
    return 'closed';
  }
  await deps.enqueueEscalations([overdueEscalation(overdue, escalateAs, at)]);
  return 'escalated';
}
