import type { CarePlan, Communication, Patient, Provenance, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { DeliveryStatusStore, PartnerDeliveryStatus } from '../routing/delivery-status.js';
import { TIMELINESS_KINDS } from '../coordination/evidence.js';
import { dueOf, isOpen, taskCodeOf, timelinessOf } from '../coordination/obligations.js';
import { changeControlOf, type ChangeControl } from '../coordination/plan-change-control.js';
import { describeChanges, diffCarePlans } from '../coordination/plan-diff.js';

export interface TaskLine {
  readonly id: string;
  readonly code: string;
  readonly description: string;
  readonly owner: string;
  readonly due?: string;
  readonly status: string;
  /** on-time, late, overdue, participant-refused (CodeSystem hub-task-status), when stamped. */
  readonly timeliness?: string;
  readonly overdue: boolean;
}

export interface PlanVersionLine {
  readonly version: string;
  readonly at?: string;
  /** Who changed it (the agency), when the hub knows. */
  readonly author?: string;
  readonly reason?: string;
  /** What changed against the previous version, in words. */
  readonly changes: string;
  readonly control?: ChangeControl;
  /** Where each partner stands with this version. */
  readonly deliveries: readonly PartnerDeliveryStatus[];
}

export interface ParticipantTimeline {
  readonly patient: { readonly id: string; readonly name: string };
  readonly plans: readonly {
    readonly id: string;
    readonly title: string;
    readonly versions: readonly PlanVersionLine[];
  }[];
  readonly openTasks: readonly TaskLine[];
  readonly sprint: readonly TaskLine[];
  readonly huddleActions: readonly TaskLine[];
  readonly escalations: readonly { readonly at?: string; readonly text: string }[];
  /** Steps on referrals between agencies, newest first (README, "Referrals"). */
  readonly referralUpdates: readonly { readonly at?: string; readonly text: string }[];
}

export interface TimelineDeps {
  readonly fhir: FhirGateway;
  readonly status: DeliveryStatusStore;
  readonly now: () => Date;
}

/** Newest plan versions shown per plan. */
const VERSIONS_SHOWN = 15;
const SPRINT_CODES = new Set(TIMELINESS_KINDS.find((k) => k.id === 'sprint')!.codes);

export function nameOf(patient: Patient): string {
  const n = patient.name?.[0];
  return [n?.given?.join(' '), n?.family].filter(Boolean).join(' ') || `Patient/${patient.id}`;
}

export function taskLine(task: Task, now: Date): TaskLine {
  const due = dueOf(task);
  return {
    id: task.id ?? '',
    code: taskCodeOf(task) ?? 'task',
    description: task.description ?? '',
    owner: task.owner?.display ?? task.owner?.reference ?? '',
    ...(due ? { due: due.toISOString() } : {}),
    status: task.status,
    ...(timelinessOf(task) ? { timeliness: timelinessOf(task) } : {}),
    overdue: isOpen(task) && (timelinessOf(task) === 'overdue' || (due !== undefined && due < now)),
  };
}

/**
 * Versions of a plan, newest first, each read by number (a server may answer `_history` from a
 * cached count), with its diff, who changed it and why, and each partner's delivery state.
 */
async function planVersions(deps: TimelineDeps, current: CarePlan): Promise<PlanVersionLine[]> {
  const id = current.id!;
  const newest = Number(current.meta?.versionId ?? 1);
  const first = Math.max(1, newest - VERSIONS_SHOWN);
  const plans = await Promise.all(
    Array.from({ length: newest - first + 1 }, (_, i) =>
      first + i === newest
        ? Promise.resolve(current)
        : deps.fhir.vread<CarePlan>('CarePlan', id, String(first + i)),
    ),
  );
  const lines: PlanVersionLine[] = [];
  for (let i = plans.length - 1; i >= 0 && lines.length < VERSIONS_SHOWN; i--) {
    const plan = plans[i]!;
    const version = plan.meta?.versionId ?? String(first + i);
    const [provenance, deliveries] = await Promise.all([
      deps.fhir.readIfPresent<Provenance>('Provenance', `plan-${id}-v${version}`.slice(0, 64)),
      deps.status.list(id, version),
    ]);
    const who = provenance?.agent?.[0]?.who;
    const control = changeControlOf(plan);
    lines.push({
      version,
      ...(plan.meta?.lastUpdated ? { at: plan.meta.lastUpdated } : {}),
      ...(who ? { author: who.display ?? who.reference ?? '' } : {}),
      ...(provenance?.reason?.[0]?.text ? { reason: provenance.reason[0].text } : {}),
      changes: describeChanges(diffCarePlans(i > 0 ? plans[i - 1] : undefined, plan)),
      ...(control ? { control } : {}),
      deliveries,
    });
  }
  return lines;
}

/** Everything the timeline page shows about one participant. */
export async function participantTimeline(
  deps: TimelineDeps,
  patientId: string,
): Promise<ParticipantTimeline> {
  const now = deps.now();
  const subject = `Patient/${patientId}`;
  const [patient, plans, tasks, communications] = await Promise.all([
    deps.fhir.read<Patient>('Patient', patientId),
    deps.fhir.search<CarePlan>('CarePlan', { subject, _count: 50 }),
    deps.fhir.search<Task>('Task', { patient: subject, _count: 500 }),
    deps.fhir.search<Communication>('Communication', {
      subject,
      category: ['escalation-notice', 'referral-update']
        .map((code) => `${CODE_SYSTEM.communicationCategory}|${code}`)
        .join(','),
      _count: 200,
    }),
  ]);
  const byDue = (a: TaskLine, b: TaskLine): number => (a.due ?? '~').localeCompare(b.due ?? '~');
  const lines = tasks.map((t) => taskLine(t, now)).sort(byDue);
  return {
    patient: { id: patientId, name: nameOf(patient) },
    plans: await Promise.all(
      plans.map(async (p) => ({
        id: p.id!,
        title: p.title ?? p.description ?? `CarePlan/${p.id}`,
        versions: await planVersions(deps, p),
      })),
    ),
    openTasks: tasks
      .filter(isOpen)
      .map((t) => taskLine(t, now))
      .sort(byDue),
    sprint: lines.filter((t) => SPRINT_CODES.has(t.code)),
    huddleActions: lines.filter((t) => t.code === 'huddle-action'),
    escalations: newestFirst(communications.filter((c) => categoryOf(c) === 'escalation-notice')),
    referralUpdates: newestFirst(communications.filter((c) => categoryOf(c) === 'referral-update')),
  };
}

function categoryOf(c: Communication): string | undefined {
  return c.category?.[0]?.coding?.find((x) => x.system === CODE_SYSTEM.communicationCategory)?.code;
}

function newestFirst(list: readonly Communication[]): Array<{ at?: string; text: string }> {
  return list
    .map((c) => ({ ...(c.sent ? { at: c.sent } : {}), text: c.payload?.[0]?.contentString ?? '' }))
    .sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
}
