import type { JSONSchemaType } from 'ajv';

/**
 * The daily huddle roster's order (operating rule 5, README): each participant's active risk flags add their
 * weights; the roster lists the highest totals first and says which flags put each one there.
 */
export interface RosterFlagRule {
  weight: number;
  label: string;
  /** Only a flag raised within this many days counts; a flag with no start date always counts. */
  withinDays?: number;
}

export interface RosterConfig {
  flags: Record<string, RosterFlagRule>;
}

/** roster.yaml, as coordination-config.ts validates it. */
export const ROSTER_SCHEMA: JSONSchemaType<RosterConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['flags'],
  properties: {
    flags: {
      type: 'object',
      minProperties: 1,
      required: [],
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['weight', 'label'],
        properties: {
          // Whole numbers so scores add exactly and read plainly; the cap catches a stray zero.
          weight: { type: 'integer', minimum: 0, maximum: 1000 },
          label: { type: 'string', minLength: 1 },
          withinDays: { type: 'integer', nullable: true, minimum: 1, maximum: 3650 },
        },
      },
    },
  },
};

/**
 * Reads the weights; every flag code must be a hub risk flag, so a typo cannot silently weigh nothing.
 * @throws ConfigError naming the file and the pointer of every problem
 */
/** The roster's flag codes that are not hub risk flags (each a problem naming the file). */
export function unknownFlagCodes(
  data: RosterConfig,
  name: string,
  knownFlagCodes: readonly string[],
): string[] {
  return Object.keys(data.flags)
    .filter((code) => !knownFlagCodes.includes(code))
    .map((code) => `${name}: /flags/${code} is not a hub risk flag code`);
}

/** What the hub read about one participant for today's roster. */
export interface ParticipantSnapshot {
  /** `Patient/<id>` */
  patient: string;
  name?: string;
  /** Active risk flags (from Flag resources), each with the resource it came from. */
  flags: readonly { code: string; source: string; since?: string; detail?: string }[];
  /** Today's coordinator; undefined when nobody is named. */
  coordinator?: { display?: string; reference?: string };
  /** Hub Tasks not completed or cancelled. */
  openTasks: readonly { task: string; code: string; owner?: string; due?: string; status: string }[];
}

export interface RosterReason {
  flag: string;
  label: string;
  weight: number;
  sources: string[];
}

export interface RosterEntry {
  /** 1-based. */
  rank: number;
  patient: string;
  name?: string;
  score: number;
  /** Why the participant is where they are: heaviest first, then by flag code. */
  reasons: RosterReason[];
  /** The reasons as one line, e.g. `score 180: self-harm-risk (100, Flag/12), recent-ed-contact (80, Flag/9)`. */
  explanation: string;
  coordinator?: { display?: string; reference?: string };
  /** The open Task due first; Tasks without a due time come last. */
  nextAction?: { task: string; code: string; owner?: string; due?: string; overdue: boolean };
  /** Open `acknowledge-plan-change` Tasks past due. */
  overdueAcknowledgments: number;
  /** Open `documentation-24h` Tasks past due. */
  overdueDocumentation: number;
}

const DAY_MS = 86_400_000;

type SnapshotFlag = ParticipantSnapshot['flags'][number];

/** Epoch ms, or undefined when absent or unreadable, so a bad date sorts like no date instead of NaN. */
function timeOf(value: string | undefined): number | undefined {
  const ms = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Code-unit order: the same on every host, unlike `localeCompare`. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Due times ascending, no due time last (two missing ones are equal, not NaN). */
function compareDue(a: string | undefined, b: string | undefined): number {
  const [x, y] = [timeOf(a) ?? Infinity, timeOf(b) ?? Infinity];
  return x === y ? 0 : x - y;
}

function isOverdue(due: string | undefined, now: Date): boolean {
  return (timeOf(due) ?? Infinity) < now.getTime();
}

/** The last instant a flag counts (its start plus its code's `withinDays`); undefined: always. */
function windowEnd(config: RosterConfig, f: SnapshotFlag): number | undefined {
  const days = config.flags[f.code]?.withinDays;
  const since = timeOf(f.since);
  return days && since !== undefined ? since + days * DAY_MS : undefined;
}

/** One reason per flag code, with every source that raised it; flags older than `withinDays` drop out. */
function reasonsOf(config: RosterConfig, flags: readonly SnapshotFlag[], now: Date): RosterReason[] {
  const byCode = new Map<string, RosterReason>();
  for (const f of flags) {
    const rule = config.flags[f.code];
    if ((windowEnd(config, f) ?? Infinity) < now.getTime()) {
      continue;
    }
    const reason = byCode.get(f.code) ?? {
      flag: f.code,
      label: rule?.label ?? f.code,
      weight: rule?.weight ?? 0,
      sources: [],
    };
    if (!reason.sources.includes(f.source)) {
      reason.sources.push(f.source);
    }
    byCode.set(f.code, reason);
  }
  return [...byCode.values()]
    .map((r) => ({ ...r, sources: r.sources.sort(compareText) }))
    .sort((a, b) => b.weight - a.weight || compareText(a.flag, b.flag));
}

function explain(score: number, reasons: readonly RosterReason[]): string {
  return reasons.length === 0
    ? 'score 0: no risk flags'
    : `score ${score}: ${reasons.map((r) => `${r.flag} (${[r.weight, ...r.sources].join(', ')})`).join(', ')}`;
}

/**
 * The last instant (epoch ms, or Infinity) up to which the clock alone leaves {@link rankRoster}'s
 * answer for these participants as it is at `now`: just after it, a Task falls overdue or a flag
 * ages out of its window. Until then, one day's ranking of the same data can be kept and reused.
 */
export function rankingHoldsUntil(
  config: RosterConfig,
  snapshots: readonly Pick<ParticipantSnapshot, 'flags' | 'openTasks'>[],
  now: Date,
): number {
  const at = now.getTime();
  let until = Infinity;
  const upTo = (boundary: number | undefined): void => {
    if (boundary !== undefined && boundary >= at && boundary < until) {
      until = boundary;
    }
  };
  for (const s of snapshots) {
    for (const t of s.openTasks) {
      // Overdue only after `due` (isOverdue); a flag counts through its window's end.
      upTo(timeOf(t.due));
    }
    for (const f of s.flags) {
      upTo(windowEnd(config, f));
    }
  }
  return until;
}

/**
 * Ranks the participants for `now`. Order: total weight, then the heaviest single flag (one grave
 * flag before several lesser ones of the same total), then the earliest next action, then the
 * participant reference, so equal inputs give the same roster whatever order they arrive in.
 */
export function rankRoster(
  config: RosterConfig,
  snapshots: readonly ParticipantSnapshot[],
  now: Date,
): RosterEntry[] {
  const entries = snapshots.map((s): RosterEntry => {
    const overdue = (code: string): string[] =>
      s.openTasks.filter((t) => t.code === code && isOverdue(t.due, now)).map((t) => t.task);
    const acknowledgments = overdue('acknowledge-plan-change');
    const documentation = overdue('documentation-24h');
    // Alerts the hub derives itself; `no-coordinator-today` has no resource, so it names the participant.
    const derived: SnapshotFlag[] = [
      ...(s.coordinator ? [] : [{ code: 'no-coordinator-today', source: s.patient }]),
      ...acknowledgments.map((source) => ({ code: 'overdue-acknowledgment', source })),
      ...documentation.map((source) => ({ code: 'overdue-documentation', source })),
    ];
    const reasons = reasonsOf(config, [...s.flags, ...derived], now);
    const score = reasons.reduce((sum, r) => sum + r.weight, 0);
    const next = [...s.openTasks].sort((a, b) => compareDue(a.due, b.due) || compareText(a.task, b.task))[0];
    return {
      rank: 0,
      patient: s.patient,
      ...(s.name ? { name: s.name } : {}),
      score,
      reasons,
      explanation: explain(score, reasons),
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
      overdueAcknowledgments: acknowledgments.length,
      overdueDocumentation: documentation.length,
    };
  });
  // Each entry's sort keys worked out once, not in every comparison (10,000 entries: a third of the time).
  const keyed = entries.map((e) => ({
    e,
    heaviest: e.reasons[0]?.weight ?? 0,
    due: timeOf(e.nextAction?.due) ?? Infinity,
  }));
  return keyed
    .sort(
      (a, b) =>
        b.e.score - a.e.score ||
        b.heaviest - a.heaviest ||
        (a.due === b.due ? 0 : a.due - b.due) ||
        compareText(a.e.patient, b.e.patient),
    )
    .map(({ e }, i) => ({ ...e, rank: i + 1 }));
}
