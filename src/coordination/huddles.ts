import type { Communication, Task } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import type { PartnerRegistry } from '../config/partners.js';
import { HubError } from '../errors/hub-error.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { hubTask } from '../fhir/hub-task.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { closeIfOpen, openObligations, type CoordinationDeps } from './coordination-deps.js';
import { isOpen, timelinessOf } from './obligations.js';

/**
 * The joint caseload huddle (operating rule 5, README): who attended, and each decision as (what was decided,
 * who owns it, when it is due). The log is a `huddle-log` Communication; each decision a
 * `huddle-action` Task on the participant, so it shows on their timeline and the roster.
 */
export interface HuddleInput {
  /** The huddle's day (YYYY-MM-DD). */
  readonly date: string;
  readonly attendees: readonly { readonly display: string; readonly organization: string }[];
  readonly decisions: readonly {
    readonly participant: string;
    readonly decision: string;
    readonly owner: string;
    readonly due: string;
  }[];
  /** Huddle actions (`Task/<id>`) the huddle confirmed done. */
  readonly closedActions?: readonly string[];
}

export interface HuddleLog {
  readonly huddle: string;
  readonly date: string;
  readonly attendees: readonly string[];
  readonly actions: readonly {
    task: string;
    participant?: string;
    decision?: string;
    owner?: string;
    due?: string;
    status: string;
    timeliness?: string;
  }[];
  readonly actionsClosed: number;
}

type HuddleDeps = Pick<
  CoordinationDeps,
  'fhir' | 'partners' | 'identifierBase' | 'now' | 'scheduleObligationCheck' | 'enqueueEscalations'
>;

function unknownAgencies(partners: PartnerRegistry, input: HuddleInput): string[] {
  return [
    ...input.attendees.map((a, i) => [a.organization, `attendees[${i}].organization`] as const),
    ...input.decisions.map((d, i) => [d.owner, `decisions[${i}].owner`] as const),
  ].flatMap(([id, field]) => (partners.get(id) ? [] : [`${field}: "${id}" is not a partner`]));
}

/** Records a huddle: its log, one action Task per decision (due-time checked), and closed actions. */
export async function recordHuddle(deps: HuddleDeps, input: HuddleInput): Promise<HuddleLog> {
  const problems = unknownAgencies(deps.partners, input);
  if (problems.length > 0) {
    throw new HubError('HUDDLE.INVALID', problems.join('; '), {
      status: 422,
      issues: problems.map((p) => ({
        severity: 'error',
        code: 'invalid',
        diagnostics: p,
        expression: [p.split(':')[0]!],
      })),
    });
  }
  const at = deps.now();
  const identifier = hubIdentifier(deps.identifierBase, 'huddle', `${input.date}.${randomUUID()}`);
  const log = await deps.fhir.create<Communication>({
    resourceType: 'Communication',
    identifier: [identifier],
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'huddle-log' }] }],
    sent: at.toISOString(),
    recipient: input.attendees.map((a) => ({
      display: `${a.display} (${deps.partners.get(a.organization)?.name ?? a.organization})`,
    })),
    about: [...new Set(input.decisions.map((d) => d.participant))].map((reference) => ({ reference })),
    payload: [
      { contentString: `Joint caseload huddle on ${input.date}` },
      {
        contentString: `Attendance: ${input.attendees.map((a) => `${a.display} (${a.organization})`).join(', ') || 'none'}`,
      },
      ...input.decisions.map((d) => ({
        contentString: `Decision for ${d.participant}: ${d.decision}; owner ${d.owner}; due ${d.due}`,
      })),
    ],
  });
  const huddle = `Communication/${log.id}`;
  const owner = (id: string): { reference: string; display: string } => ({
    reference: `Organization/${id}`,
    display: deps.partners.get(id)?.name ?? id,
  });
  await openObligations(
    deps,
    input.decisions.map((d, i) => ({
      task: hubTask({
        identifier: hubIdentifier(deps.identifierBase, 'huddle-action', `${identifier.value}.${i}`),
        code: 'huddle-action',
        description: d.decision,
        focus: huddle,
        for: d.participant,
        owner: owner(d.owner),
        authoredOn: at.toISOString(),
        start: at.toISOString(),
        due: d.due,
      }),
      escalateAs: 'missed-huddle-action',
    })),
  );
  for (const ref of input.closedActions ?? []) {
    const task = await deps.fhir.read<Task>('Task', ref.replace(/^Task\//, ''));
    await closeIfOpen(deps, task, {
      outcome: 'completed',
      at,
      by: task.owner ?? {},
      note: `Confirmed done at the huddle ${huddle}`,
    });
  }
  return huddleLog(deps, log.id!);
}

/** A huddle's log: attendance, its actions and where each stands, and how many are closed. */
export async function huddleLog(deps: Pick<HuddleDeps, 'fhir'>, id: string): Promise<HuddleLog> {
  const log = await deps.fhir.read<Communication>('Communication', id);
  const isHuddle = log.category?.some((c) =>
    c.coding?.some((x) => x.system === CODE_SYSTEM.communicationCategory && x.code === 'huddle-log'),
  );
  if (!isHuddle) {
    throw new HubError('HUDDLE.NOT_FOUND', `Communication/${id} is not a huddle log`, {
      status: 404,
      issues: [
        { severity: 'error', code: 'not-found', diagnostics: `Communication/${id} is not a huddle log` },
      ],
    });
  }
  const tasks = await deps.fhir.search<Task>('Task', {
    focus: `Communication/${id}`,
    code: `${CODE_SYSTEM.taskCode}|huddle-action`,
  });
  const actions = tasks.map((t) => ({
    task: `Task/${t.id}`,
    ...(t.for?.reference ? { participant: t.for.reference } : {}),
    ...(t.description ? { decision: t.description } : {}),
    ...(t.owner?.reference ? { owner: t.owner.reference } : {}),
    ...(t.restriction?.period?.end ? { due: t.restriction.period.end } : {}),
    status: t.status,
    ...(timelinessOf(t) ? { timeliness: timelinessOf(t) } : {}),
  }));
  return {
    huddle: `Communication/${id}`,
    // The identifier is `<date>.<uuid>`.
    date: log.identifier?.[0]?.value?.split('.')[0] ?? '',
    attendees: (log.recipient ?? []).map((r) => r.display ?? ''),
    actions,
    actionsClosed: tasks.filter((t) => !isOpen(t)).length,
  };
}
