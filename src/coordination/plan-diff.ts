import type { CarePlan, CarePlanActivity } from 'fhir/r4.js';

/** One difference between two versions of a CarePlan, in words a coordinator can read. */
export interface PlanChange {
  /** Which part of the plan: `status`, `period`, `activity`, `goal`, `careTeam`, `note`, ... */
  readonly element: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly summary: string;
}

/** The differences between two versions, and whether they alter day-to-day delivery. */
export interface PlanDiff {
  readonly changes: readonly PlanChange[];
  /**
   * True when the change alters what partners do day to day (activities, status, period): such
   * changes must be acknowledged by every partner that receives them.
   */
  readonly altersDelivery: boolean;
}

/** Elements whose change alters day-to-day delivery. */
const DELIVERY_ELEMENTS = new Set(['status', 'period', 'activity']);

/**
 * Compares two versions of a plan (`before` undefined for the first version). Activities are
 * matched by their code or description, not their position, so reordering is not a change.
 */
export function diffCarePlans(before: CarePlan | undefined, after: CarePlan): PlanDiff {
  const changes: PlanChange[] = [];
  if (!before) {
    changes.push({
      element: 'plan',
      change: 'added',
      summary: `New plan with ${after.activity?.length ?? 0} activities`,
    });
    return { changes, altersDelivery: true };
  }
  scalar(changes, 'status', before.status, after.status);
  scalar(changes, 'intent', before.intent, after.intent);
  scalar(changes, 'title', before.title, after.title);
  scalar(changes, 'description', before.description, after.description);
  scalar(changes, 'period', periodText(before.period), periodText(after.period));
  scalar(
    changes,
    'author',
    before.author?.reference ?? before.author?.display,
    after.author?.reference ?? after.author?.display,
  );
  keyed(changes, 'activity', before.activity ?? [], after.activity ?? [], activityKey, activityText);
  keyed(
    changes,
    'goal',
    before.goal ?? [],
    after.goal ?? [],
    (g) => g.reference ?? g.display ?? '',
    (g) => g.display ?? g.reference ?? 'goal',
  );
  keyed(
    changes,
    'careTeam',
    before.careTeam ?? [],
    after.careTeam ?? [],
    (c) => c.reference ?? '',
    (c) => c.display ?? c.reference ?? 'care team',
  );
  keyed(
    changes,
    'addresses',
    before.addresses ?? [],
    after.addresses ?? [],
    (a) => a.reference ?? a.display ?? '',
    (a) => a.display ?? a.reference ?? 'condition',
  );
  keyed(
    changes,
    'note',
    before.note ?? [],
    after.note ?? [],
    (n) => n.text,
    (n) => `"${n.text}"`,
  );
  return { changes, altersDelivery: changes.some((c) => DELIVERY_ELEMENTS.has(c.element)) };
}

/** One line per change, for notices and Provenance. */
export function describeChanges(diff: PlanDiff): string {
  return diff.changes.length === 0 ? 'No change' : diff.changes.map((c) => c.summary).join('; ');
}

function scalar(
  changes: PlanChange[],
  element: string,
  before: string | undefined,
  after: string | undefined,
): void {
  if (before === after) {
    return;
  }
  const change = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
  changes.push({ element, change, summary: `${element}: ${before ?? '(none)'} -> ${after ?? '(none)'}` });
}

function keyed<T>(
  changes: PlanChange[],
  element: string,
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => string,
  text: (item: T) => string,
): void {
  const old = new Map(before.map((item) => [key(item), item]));
  const now = new Map(after.map((item) => [key(item), item]));
  for (const [k, item] of now) {
    const previous = old.get(k);
    if (!previous) {
      changes.push({ element, change: 'added', summary: `${element} added: ${text(item)}` });
    } else if (canonical(previous) !== canonical(item)) {
      changes.push({ element, change: 'changed', summary: `${element} changed: ${text(item)}` });
    }
  }
  for (const [k, item] of old) {
    if (!now.has(k)) {
      changes.push({ element, change: 'removed', summary: `${element} removed: ${text(item)}` });
    }
  }
}

/**
 * What identifies an activity across versions: its reference, else its first coding, else its
 * description or code text. Shared with the three-way merge, so both match activities alike.
 */
export function activityKey(a: CarePlanActivity): string {
  const coding = a.detail?.code?.coding?.[0];
  return (
    a.reference?.reference ??
    (coding ? `${coding.system}|${coding.code}` : (a.detail?.description ?? a.detail?.code?.text ?? ''))
  );
}

function activityText(a: CarePlanActivity): string {
  const what =
    a.detail?.description ??
    a.detail?.code?.text ??
    a.detail?.code?.coding?.[0]?.display ??
    a.reference?.display ??
    'activity';
  const who = a.detail?.performer?.map((p) => p.display ?? p.reference).join(', ');
  const when = a.detail?.scheduledString ?? '';
  return [
    what,
    who ? `by ${who}` : '',
    when ? `(${when})` : '',
    a.detail?.status ? `[${a.detail.status}]` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function periodText(p: CarePlan['period']): string | undefined {
  return p ? `${p.start ?? '…'} to ${p.end ?? '…'}` : undefined;
}

/** JSON with sorted keys, so key order does not count as a change. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
