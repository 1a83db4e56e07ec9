import { DateTime } from 'luxon';
import type { Communication, Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { dueOf, isOpen, taskCodeOf, timelinessOf } from './obligations.js';

/**
 * Evidence of coordination for commissioners, computed from what the hub recorded (its Tasks and
 * Communications), never from what anyone says they did. Every number's definition is here:
 *
 * - **Huddles**: `huddle-log` Communications sent in the period (held); attendance is the mean
 *   number of people recorded per huddle; actions are `huddle-action` Tasks (opened), of which
 *   `completed` (closed) and stamped `on-time` (closed on time).
 * - **Timeliness**, one line per kind of obligation, over the hub Tasks of that kind created in
 *   the period: closed `on-time`, closed `late`, `overdue` (still open past its due time),
 *   `refused` (the participant refused; how it was handled is on the Task), and `open` (not yet
 *   due). Latency is created-to-closed in hours, for the closed ones.
 * - **Escalations**: `escalation-notice` Communications sent in the period. The hub writes each one
 *   for a trigger configured in the escalation tiers ("as designed"; its identifier names the
 *   trigger); any other escalation notice on the server was raised outside the model ("ad hoc").
 * - **Documentation within 24 hours**: the `documentation-24h` Tasks as above.
 * - **Update quality**: crisis-update obligations (`crisis-update` Tasks): timely = closed on time;
 *   complete = the update that closed it was accepted, which the hub does only with every required
 *   field present (incomplete updates are refused at the door, so they never close one).
 * - **Recurring failures**: the same kind of obligation missed (late or overdue) by the same agency
 *   at least twice in the period.
 * - **By agency**: every obligation by owning agency.
 *
 * With an agency given, only obligations that agency owns (and huddles it attended) count.
 */
export interface EvidenceQuery {
  /** First day of the period, inclusive (YYYY-MM-DD). */
  readonly from: string;
  /** Day after the period, exclusive (YYYY-MM-DD). */
  readonly to: string;
  readonly agency?: string;
  /** The zone whose days the period counts (the hub's business calendar); UTC when absent. */
  readonly timeZone?: string;
}

export interface TimelinessLine {
  readonly id: string;
  readonly label: string;
  readonly total: number;
  readonly onTime: number;
  readonly late: number;
  readonly overdue: number;
  readonly refused: number;
  readonly open: number;
  readonly latencyHours: { readonly p50: number; readonly p90: number; readonly max: number } | null;
  /** Closed obligations by how long they took. */
  readonly histogram: readonly { readonly bucket: string; readonly count: number }[];
}

export interface EvidenceReport {
  readonly period: { readonly from: string; readonly to: string };
  readonly agency?: string;
  readonly generatedAt: string;
  readonly huddles: {
    readonly held: number;
    readonly meanAttendance: number;
    readonly actionsOpened: number;
    readonly actionsClosed: number;
    readonly actionsClosedOnTime: number;
  };
  readonly timeliness: readonly TimelinessLine[];
  readonly escalations: {
    readonly asDesigned: number;
    readonly adHoc: number;
    readonly byTrigger: readonly { readonly trigger: string; readonly count: number }[];
  };
  readonly documentation: {
    readonly due: number;
    readonly within24h: number;
    readonly late: number;
    readonly overdue: number;
  };
  readonly updateQuality: { readonly updates: number; readonly timely: number; readonly complete: number };
  readonly recurringFailures: readonly {
    readonly kind: string;
    readonly agency: string;
    readonly count: number;
    readonly participants: number;
  }[];
  readonly byAgency: readonly {
    readonly agency: string;
    readonly obligations: number;
    readonly onTime: number;
    readonly late: number;
    readonly overdue: number;
  }[];
}

/** What the report is computed from: the hub's Tasks and Communications of the period. */
export interface EvidenceRecords {
  readonly tasks: readonly Task[];
  readonly communications: readonly Communication[];
  /** Identifier system of the hub's escalation notices. */
  readonly escalationNoticeSystem: string;
}

/** Obligation kinds reported on, with the hub task codes they cover. */
export const TIMELINESS_KINDS: readonly { id: string; label: string; codes: readonly string[] }[] = [
  { id: 'first-contact', label: 'Post-discharge first contact', codes: ['first-visit-confirmed'] },
  {
    id: 'sprint',
    label: 'Post-discharge sprint steps',
    codes: [
      'discharge-summary',
      'medication-reconciliation',
      'immediate-risk-review',
      'first-visit-confirmed',
      'home-environment-check',
      'services-active-check',
    ],
  },
  { id: 'acknowledgment', label: 'Plan change acknowledgment', codes: ['acknowledge-plan-change'] },
  { id: 'documentation', label: 'Documentation within 24 hours', codes: ['documentation-24h'] },
  { id: 'plan-review', label: 'Plan reviews (reassessment)', codes: ['plan-change-review'] },
  {
    id: 'referral',
    label: 'Referrals and authorizations',
    codes: ['authorization-review', 'housing-follow-up'],
  },
  { id: 'crisis-update', label: 'Crisis stabilization updates', codes: ['crisis-update'] },
  { id: 'escalation-review', label: 'Escalation reviews', codes: ['escalation-review'] },
  { id: 'huddle-action', label: 'Huddle actions', codes: ['huddle-action'] },
];

const BUCKETS: readonly { label: string; maxHours: number }[] = [
  { label: 'under 4 h', maxHours: 4 },
  { label: '4-24 h', maxHours: 24 },
  { label: '1-3 days', maxHours: 72 },
  { label: 'over 3 days', maxHours: Infinity },
];

type Standing = 'onTime' | 'late' | 'overdue' | 'refused' | 'open';

/** Where one obligation stands at `now`. */
export function standingOf(task: Task, now: Date): Standing {
  const timeliness = timelinessOf(task);
  if (timeliness === 'participant-refused') {
    return 'refused';
  }
  const due = dueOf(task);
  if (!isOpen(task)) {
    const closed = closedAt(task);
    const lateByTimes = due !== undefined && closed !== undefined && closed > due.getTime();
    return timeliness === 'late' || lateByTimes ? 'late' : 'onTime';
  }
  return timeliness === 'overdue' || (due !== undefined && due < now) ? 'overdue' : 'open';
}

function createdAt(task: Task): number | undefined {
  const t = Date.parse(task.authoredOn ?? task.restriction?.period?.start ?? task.meta?.lastUpdated ?? '');
  return Number.isNaN(t) ? undefined : t;
}

function closedAt(task: Task): number | undefined {
  const t = Date.parse(task.executionPeriod?.end ?? task.lastModified ?? '');
  return Number.isNaN(t) ? undefined : t;
}

const ownerOf = (task: Task): string =>
  /^Organization\/(.+)$/.exec(task.owner?.reference ?? '')?.[1] ?? 'unassigned';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function timelinessLine(
  kind: (typeof TIMELINESS_KINDS)[number],
  tasks: readonly Task[],
  now: Date,
): TimelinessLine {
  const of = tasks.filter((t) => kind.codes.includes(taskCodeOf(t) ?? ''));
  const counts: Record<Standing, number> = { onTime: 0, late: 0, overdue: 0, refused: 0, open: 0 };
  const hours: number[] = [];
  for (const t of of) {
    const standing = standingOf(t, now);
    counts[standing]++;
    const [start, end] = [createdAt(t), closedAt(t)];
    if ((standing === 'onTime' || standing === 'late') && start !== undefined && end !== undefined) {
      hours.push(Math.max(0, (end - start) / 3_600_000));
    }
  }
  hours.sort((a, b) => a - b);
  return {
    id: kind.id,
    label: kind.label,
    total: of.length,
    ...counts,
    latencyHours:
      hours.length === 0
        ? null
        : {
            p50: round1(percentile(hours, 50)),
            p90: round1(percentile(hours, 90)),
            max: round1(hours.at(-1)!),
          },
    histogram: BUCKETS.map((b, i) => ({
      bucket: b.label,
      count: hours.filter((h) => h < b.maxHours && (i === 0 || h >= BUCKETS[i - 1]!.maxHours)).length,
    })),
  };
}

function categoryOf(c: Communication): string | undefined {
  return c.category
    ?.flatMap((cat) => cat.coding ?? [])
    .find((x) => x.system === CODE_SYSTEM.communicationCategory)?.code;
}

/** The first instant of a period's day, in the query's zone. */
export function dayStart(day: string, q: EvidenceQuery): number {
  return DateTime.fromISO(day, { zone: q.timeZone ?? 'UTC' }).toMillis();
}

/** Whether an instant falls in `[start, end)` (epoch milliseconds). */
function inPeriod(iso: string | undefined, period: { start: number; end: number }): boolean {
  const t = Date.parse(iso ?? '');
  return !Number.isNaN(t) && t >= period.start && t < period.end;
}

/** The report for a period (and agency) from already fetched records; pure. */
export function computeEvidence(records: EvidenceRecords, q: EvidenceQuery, now: Date): EvidenceReport {
  const period = { start: dayStart(q.from, q), end: dayStart(q.to, q) };
  const tasks = records.tasks.filter(
    (t) => inPeriod(t.authoredOn ?? t.meta?.lastUpdated, period) && (!q.agency || ownerOf(t) === q.agency),
  );
  const comms = records.communications.filter((c) => inPeriod(c.sent ?? c.meta?.lastUpdated, period));
  const huddles = comms.filter((c) => categoryOf(c) === 'huddle-log' && (!q.agency || attended(c, q.agency)));
  const actions = tasks.filter((t) => taskCodeOf(t) === 'huddle-action');
  const escalations = comms.filter((c) => categoryOf(c) === 'escalation-notice');
  const triggerOf = (c: Communication): string | undefined =>
    c.identifier?.find((i) => i.system === records.escalationNoticeSystem)?.value?.split('.')[0];
  const byTrigger = new Map<string, number>();
  for (const c of escalations) {
    const trigger = triggerOf(c) ?? 'ad hoc';
    byTrigger.set(trigger, (byTrigger.get(trigger) ?? 0) + 1);
  }
  const timeliness = TIMELINESS_KINDS.map((k) => timelinessLine(k, tasks, now));
  const line = (id: string): TimelinessLine => timeliness.find((t) => t.id === id)!;
  const documentation = line('documentation');
  const crisis = line('crisis-update');

  const missed = new Map<string, { count: number; participants: Set<string> }>();
  for (const t of tasks) {
    const standing = standingOf(t, now);
    if (standing === 'late' || standing === 'overdue') {
      const key = `${taskCodeOf(t) ?? 'other'}|${ownerOf(t)}`;
      const entry = missed.get(key) ?? { count: 0, participants: new Set<string>() };
      entry.count++;
      entry.participants.add(t.for?.reference ?? '');
      missed.set(key, entry);
    }
  }
  const agencies = new Map<string, Record<Standing, number>>();
  for (const t of tasks) {
    const counts = agencies.get(ownerOf(t)) ?? { onTime: 0, late: 0, overdue: 0, refused: 0, open: 0 };
    counts[standingOf(t, now)]++;
    agencies.set(ownerOf(t), counts);
  }

  return {
    period: { from: q.from, to: q.to },
    ...(q.agency ? { agency: q.agency } : {}),
    generatedAt: now.toISOString(),
    huddles: {
      held: huddles.length,
      meanAttendance:
        huddles.length === 0
          ? 0
          : round1(huddles.reduce((n, h) => n + (h.recipient?.length ?? 0), 0) / huddles.length),
      actionsOpened: actions.length,
      actionsClosed: actions.filter((t) => t.status === 'completed').length,
      actionsClosedOnTime: actions.filter((t) => timelinessOf(t) === 'on-time').length,
    },
    timeliness,
    escalations: {
      asDesigned: escalations.filter((c) => triggerOf(c) !== undefined).length,
      adHoc: escalations.filter((c) => triggerOf(c) === undefined).length,
      byTrigger: [...byTrigger]
        .map(([trigger, count]) => ({ trigger, count }))
        .sort((a, b) => b.count - a.count || (a.trigger < b.trigger ? -1 : 1)),
    },
    documentation: {
      due: documentation.total,
      within24h: documentation.onTime,
      late: documentation.late,
      overdue: documentation.overdue,
    },
    updateQuality: { updates: crisis.total, timely: crisis.onTime, complete: crisis.onTime + crisis.late },
    recurringFailures: [...missed]
      .filter(([, v]) => v.count >= 2)
      .map(([key, v]) => {
        const [kind, agency] = key.split('|') as [string, string];
        return { kind, agency, count: v.count, participants: v.participants.size };
      })
      .sort((a, b) => b.count - a.count || (a.kind + a.agency < b.kind + b.agency ? -1 : 1)),
    byAgency: [...agencies]
      .map(([agency, c]) => ({
        agency,
        obligations: c.onTime + c.late + c.overdue + c.refused + c.open,
        onTime: c.onTime,
        late: c.late,
        overdue: c.overdue,
      }))
      .sort((a, b) => (a.agency < b.agency ? -1 : a.agency > b.agency ? 1 : 0)),
  };
}

/** Whether an agency attended a huddle: its log's attendance line names each attendee's agency id. */
function attended(huddle: Communication, agency: string): boolean {
  return (huddle.payload ?? []).some(
    (p) => p.contentString?.startsWith('Attendance:') === true && p.contentString.includes(`(${agency})`),
  );
}

/** A cell safe to open in a spreadsheet: quoted, and never read as a formula. */
function csvCell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) {
    text = `'${text}`;
  }
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report as CSV, one metric per row: section, metric, agency, period, value. */
export function evidenceCsv(r: EvidenceReport): string {
  const period = `${r.period.from}/${r.period.to}`;
  const agency = r.agency ?? 'all';
  const rows: Array<[string, string, string | number]> = [
    ['huddles', 'held', r.huddles.held],
    ['huddles', 'mean attendance', r.huddles.meanAttendance],
    ['huddles', 'actions opened', r.huddles.actionsOpened],
    ['huddles', 'actions closed', r.huddles.actionsClosed],
    ['huddles', 'actions closed on time', r.huddles.actionsClosedOnTime],
    ...r.timeliness.flatMap((t): Array<[string, string, string | number]> => [
      [`timeliness: ${t.label}`, 'total', t.total],
      [`timeliness: ${t.label}`, 'on time', t.onTime],
      [`timeliness: ${t.label}`, 'late', t.late],
      [`timeliness: ${t.label}`, 'overdue', t.overdue],
      [`timeliness: ${t.label}`, 'refused by participant', t.refused],
      [`timeliness: ${t.label}`, 'latency p50 hours', t.latencyHours?.p50 ?? ''],
      [`timeliness: ${t.label}`, 'latency p90 hours', t.latencyHours?.p90 ?? ''],
    ]),
    ['escalations', 'as designed', r.escalations.asDesigned],
    ['escalations', 'ad hoc', r.escalations.adHoc],
    ...r.escalations.byTrigger.map((e): [string, string, number] => [
      'escalations by trigger',
      e.trigger,
      e.count,
    ]),
    ['documentation', 'due', r.documentation.due],
    ['documentation', 'within 24 hours', r.documentation.within24h],
    ['documentation', 'late', r.documentation.late],
    ['documentation', 'overdue', r.documentation.overdue],
    ['update quality', 'crisis updates', r.updateQuality.updates],
    ['update quality', 'timely', r.updateQuality.timely],
    ['update quality', 'complete', r.updateQuality.complete],
    ...r.recurringFailures.map((f): [string, string, number] => [
      'recurring failures',
      `${f.kind} by ${f.agency}`,
      f.count,
    ]),
    ...r.byAgency.flatMap((a): Array<[string, string, number]> => [
      [`agency ${a.agency}`, 'obligations', a.obligations],
      [`agency ${a.agency}`, 'on time', a.onTime],
      [`agency ${a.agency}`, 'late', a.late],
      [`agency ${a.agency}`, 'overdue', a.overdue],
    ]),
  ];
  return (
    [
      'section,metric,agency,period,value',
      ...rows.map(([section, metric, value]) =>
        [section, metric, agency, period, value].map(csvCell).join(','),
      ),
    ].join('\r\n') + '\r\n'
  );
}
