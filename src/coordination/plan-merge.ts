import type { CarePlan, CarePlanActivity } from 'fhir/r4.js';
import { activityKey, canonical } from './plan-diff.js';

/** A merge that succeeded, or the elements both sides changed differently, named in words. */
export type PlanMergeResult = { readonly merged: CarePlan } | { readonly conflicts: string[] };

/** Not merged as elements: the server's id and version (kept from `theirs`), and activities (merged one by one). */
const NOT_MERGED = new Set(['resourceType', 'id', 'meta', 'activity']);

/**
 * Three-way merge of two edits of the same plan version. `base` is the version both sides
 * started from, `theirs` what is stored now (someone else's edit), `ours` the incoming edit.
 *
 * The unit is a top-level element (`status`, `period`, `description`, `goal`, `note`, ...,
 * each as a whole) and, for `activity`, one activity, matched by the same key as
 * {@link diffCarePlans} (reference, coding, description) so reordering is no change. An element
 * changed by one side takes that side's value; changed identically by both, that value;
 * changed differently by both (a removal counts as a change), it is a conflict named like
 * `status` or `activity "Personal care"`. The merged plan keeps `theirs`' id and meta;
 * activities keep `theirs`' order, with activities only `ours` added appended in its order.
 */
export function mergeCarePlans(base: CarePlan, theirs: CarePlan, ours: CarePlan): PlanMergeResult {
  const conflicts: string[] = [];
  const merged: Record<string, unknown> = { ...theirs };

  const elements = new Set([base, theirs, ours].flatMap((p) => Object.keys(p)));
  for (const element of [...elements].sort()) {
    if (NOT_MERGED.has(element)) {
      continue;
    }
    const [b, t, o] = [base, theirs, ours].map((p) => (p as unknown as Record<string, unknown>)[element]);
    const result = mergeValue(b, t, o);
    if (result === CONFLICT) {
      conflicts.push(element);
    } else if (result === undefined) {
      delete merged[element];
    } else {
      merged[element] = result;
    }
  }

  const activities = mergeActivities(base.activity ?? [], theirs.activity ?? [], ours.activity ?? []);
  conflicts.push(...activities.conflicts);
  if (activities.merged.length > 0) {
    merged.activity = activities.merged;
  } else {
    delete merged.activity;
  }

  return conflicts.length > 0 ? { conflicts } : { merged: merged as unknown as CarePlan };
}

const CONFLICT = Symbol('conflict');

/** One element, three ways: `undefined` is "absent", {@link CONFLICT} means both changed it differently. */
function mergeValue<T>(
  base: T | undefined,
  theirs: T | undefined,
  ours: T | undefined,
): T | undefined | typeof CONFLICT {
  const b = canonical(base);
  const t = canonical(theirs);
  const o = canonical(ours);
  if (o === b || o === t) {
    return theirs;
  }
  if (t === b) {
    return ours;
  }
  return CONFLICT;
}

function mergeActivities(
  base: readonly CarePlanActivity[],
  theirs: readonly CarePlanActivity[],
  ours: readonly CarePlanActivity[],
): { merged: CarePlanActivity[]; conflicts: string[] } {
  const [b, t, o] = [base, theirs, ours].map(byKey);
  const merged: CarePlanActivity[] = [];
  const conflicts: string[] = [];
  // theirs' order first, then what only ours has, in ours' order
  const keys = [...new Set([...t!.keys(), ...o!.keys(), ...b!.keys()])];
  for (const key of keys) {
    const result = mergeValue(b!.get(key), t!.get(key), o!.get(key));
    if (result === CONFLICT) {
      conflicts.push(`activity "${activityName(o!.get(key) ?? t!.get(key) ?? b!.get(key)!)}"`);
    } else if (result !== undefined) {
      merged.push(result);
    }
  }
  return { merged, conflicts };
}

/**
 * Activities by {@link activityKey}. Two activities with the same key in one version (e.g. two
 * without code or description) are told apart by their order, so neither is lost.
 */
function byKey(activities: readonly CarePlanActivity[]): Map<string, CarePlanActivity> {
  const map = new Map<string, CarePlanActivity>();
  for (const a of activities) {
    const key = activityKey(a);
    let n = 0;
    while (map.has(`${key}#${n}`)) {
      n++;
    }
    map.set(`${key}#${n}`, a);
  }
  return map;
}

/** What a coordinator calls the activity: its description, code text or display. */
function activityName(a: CarePlanActivity): string {
  return (
    a.detail?.description ??
    a.detail?.code?.text ??
    a.detail?.code?.coding?.[0]?.display ??
    a.reference?.display ??
    a.reference?.reference ??
    activityKey(a)
  );
}
