import { loadYamlConfig } from './config-file.js';

/**
 * The daily huddle roster's order (DESIGN rule 5): each participant's active risk flags add their
 * weights; the roster lists the highest totals first and says which flags put each one there.
 */
export interface RosterFlagRule {
  weight: number;
  label: string;
  /** Only a flag raised within this many days counts. */
  withinDays?: number;
}

export interface RosterConfig {
  flags: Record<string, RosterFlagRule>;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['flags'],
  properties: {
    flags: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['weight', 'label'],
        properties: {
          weight: { type: 'number', minimum: 0, maximum: 1000 },
          label: { type: 'string', minLength: 1 },
          withinDays: { type: 'integer', minimum: 1, maximum: 3650 },
        },
      },
    },
  },
};

/** Reads the weights; every flag code must be a hub risk flag. */
export function loadRosterConfig(file: string, knownFlagCodes: readonly string[]): Promise<RosterConfig> {
  return loadYamlConfig<RosterConfig>(file, schema, (data, name) =>
    Object.keys(data.flags)
      .filter((code) => !knownFlagCodes.includes(code))
      .map((code) => `${name}: /flags/${code} is not a hub risk flag code`),
  );
}

/** What the hub read about one participant for the roster. */
export interface ParticipantSnapshot {
  patient: string;
  name?: string;
  /** Active risk flags, each with the resource it came from. */
  flags: { code: string; source: string; since?: string; detail?: string }[];
  /** Today's coordinator; undefined when nobody is named. */
  coordinator?: { display?: string; reference?: string };
  /** Open hub Tasks. */
  openTasks: { task: string; code: string; owner?: string; due?: string; status: string }[];
}

export interface RosterReason {
  flag: string;
  label: string;
  weight: number;
  sources: string[];
}

export interface RosterEntry {
  rank: number;
  patient: string;
  name?: string;
  score: number;
  /** Why the participant is where they are: heaviest first. */
  reasons: RosterReason[];
  explanation: string;
  coordinator?: { display?: string; reference?: string };
  /** The open Task due first. */
  nextAction?: { task: string; code: string; owner?: string; due?: string; overdue: boolean };
  overdueAcknowledgments: number;
  overdueDocumentation: number;
}

const DAY_MS = 86_400_000;

function isOverdue(due: string | undefined, now: Date): boolean {
  return due !== undefined && Date.parse(due) < now.getTime();
}

/** Flags as the roster counts them: active Flags, plus the alerts derived from the snapshot. */
function flagsOf(s: ParticipantSnapshot, now: Date): { code: string; source: string; since?: string }[] {
  const overdue = (code: string): string[] =>
    s.openTasks.filter((t) => t.code === code && isOverdue(t.due, now)).map((t) => t.task);
  return [
    ...s.flags,
    ...(s.coordinator ? [] : [{ code: 'no-coordinator-today', source: s.patient }]),
    ...overdue('acknowledge-plan-change').map((source) => ({ code: 'overdue-acknowledgment', source })),
    ...overdue('documentation-24h').map((source) => ({ code: 'overdue-documentation', source })),
  ];
}

function reasonsOf(config: RosterConfig, s: ParticipantSnapshot, now: Date): RosterReason[] {
  const byCode = new Map<string, RosterReason>();
  for (const f of flagsOf(s, now)) {
    const rule = config.flags[f.code];
    if (rule?.withinDays && f.since && now.getTime() - Date.parse(f.since) > rule.withinDays * DAY_MS) {
      continue;
    }
    const reason = byCode.get(f.code) ?? {
      flag: f.code,
      label: rule?.label ?? f.code,
      weight: rule?.weight ?? 0,
      sources: [],
    };
    reason.sources.push(f.source);
    byCode.set(f.code, reason);
  }
  return [...byCode.values()]
    .map((r) => ({ ...r, sources: [...new Set(r.sources)].sort() }))
    .sort((a, b) => b.weight - a.weight || a.flag.localeCompare(b.flag));
}

/**
 * Ranks the participants for `now`. Order: total weight, then the heaviest single flag, then the
 * earliest next action, then the participant reference, so equal inputs always give the same roster.
 */
export function rankRoster(
  config: RosterConfig,
  snapshots: readonly ParticipantSnapshot[],
  now: Date,
): RosterEntry[] {
  const entries = snapshots.map((s) => {
    const reasons = reasonsOf(config, s, now);
    const score = reasons.reduce((sum, r) => sum + r.weight, 0);
    const next = [...s.openTasks].sort(
      (a, b) =>
        (a.due ? Date.parse(a.due) : Infinity) - (b.due ? Date.parse(b.due) : Infinity) ||
        a.task.localeCompare(b.task),
    )[0];
    const count = (code: string): number =>
      s.openTasks.filter((t) => t.code === code && isOverdue(t.due, now)).length;
    return {
      rank: 0,
      patient: s.patient,
      ...(s.name ? { name: s.name } : {}),
      score,
      reasons,
      explanation:
        reasons.length === 0
          ? 'score 0: no risk flags'
          : `score ${score}: ${reasons.map((r) => `${r.flag} (${r.weight}, ${r.sources.join(' ')})`).join(', ')}`,
      ...(s.coordinator ? { coordinator: s.coordinator } : {}),
      ...(next
        ? {
            nextAction: {
              task: next.task,
              code: next.code,
              ...(next.owner ? { owner: next.owner } : {}),
              ...(next.due ? { due: next.due } : {}),
              overdue: isOverdue(next.due, now),
            },
          }
        : {}),
      overdueAcknowledgments: count('acknowledge-plan-change'),
      overdueDocumentation: count('documentation-24h'),
    };
  });
  const nextDue = (e: RosterEntry): number => (e.nextAction?.due ? Date.parse(e.nextAction.due) : Infinity);
  return entries
    .sort(
      (a, b) =>
        b.score - a.score ||
        (b.reasons[0]?.weight ?? 0) - (a.reasons[0]?.weight ?? 0) ||
        nextDue(a) - nextDue(b) ||
        a.patient.localeCompare(b.patient),
    )
    .map((e, i) => ({ ...e, rank: i + 1 }));
}
