import type { FieldIssue } from '../adapters/types.js';
import { parsePartner, type PartnerConfig } from '../config/partners.js';
import { dryRun, type DryRunRecord } from './dry-run.js';
import type { FormatHandlers } from './formats.js';
import type { RecordedBatch } from './traffic-recorder.js';

/**
 * A candidate partner file against the current one, record by record, on the same traffic: the
 * release gate (`npm run hub -- mapping diff`) replays recorded batches, the mapping test bench
 * page a pasted sample. Pure.
 */

/** Version name of a file without `mappingVersion`. */
export const UNVERSIONED = 'unversioned';

/** One difference between two JSON values, at a path such as `entry[0].resource.status`. */
export type JsonChange =
  | { readonly kind: 'added'; readonly path: string; readonly after: unknown }
  | { readonly kind: 'removed'; readonly path: string; readonly before: unknown }
  | { readonly kind: 'changed'; readonly path: string; readonly before: unknown; readonly after: unknown };

/**
 * Structural diff of two JSON values: objects key by key, arrays index by index; anything else
 * (or a change of type, FHIR resource types included) is one `changed` entry. Empty when equal.
 */
export function jsonDiff(before: unknown, after: unknown, at = ''): JsonChange[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: JsonChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = `${at}[${i}]`;
      if (i >= after.length) {
        changes.push({ kind: 'removed', path: p, before: before[i] });
      } else if (i >= before.length) {
        changes.push({ kind: 'added', path: p, after: after[i] });
      } else {
        changes.push(...jsonDiff(before[i], after[i], p));
      }
    }
    return changes;
  }
  if (isObject(before) && isObject(after) && before.resourceType === after.resourceType) {
    const changes: JsonChange[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const key of keys) {
      const p = at ? `${at}.${key}` : key;
      const inBefore = Object.hasOwn(before, key) && before[key] !== undefined;
      const inAfter = Object.hasOwn(after, key) && after[key] !== undefined;
      if (inBefore && !inAfter) {
        changes.push({ kind: 'removed', path: p, before: before[key] });
      } else if (!inBefore && inAfter) {
        changes.push({ kind: 'added', path: p, after: after[key] });
      } else if (inBefore && inAfter) {
        changes.push(...jsonDiff(before[key], after[key], p));
      }
    }
    return changes;
  }
  return Object.is(before, after) ? [] : [{ kind: 'changed', path: at || '(root)', before, after }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What became of a record under the candidate, compared with the current file. */
export type RecordOutcome =
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'changed'; readonly changes: readonly JsonChange[] }
  | { readonly outcome: 'newly-rejected'; readonly issues: readonly FieldIssue[] }
  | {
      readonly outcome: 'newly-accepted';
      readonly wasRejectedFor: readonly FieldIssue[];
      readonly writes: string[];
    };

/** One record of a recorded batch and its outcome. */
export type RecordComparison = {
  /** Which recorded batch (newest first, from 1) and when it was received. */
  readonly batch: number;
  readonly receivedAt: string;
  readonly format: string;
  readonly location: string;
  readonly sourceId?: string;
} & RecordOutcome;

export interface GateReport {
  readonly partner: string;
  readonly currentVersion: string;
  readonly candidateVersion: string;
  readonly batches: number;
  /** Batch-level problems (a format no longer allowed, a batch whose format the hub cannot read). */
  readonly warnings: readonly string[];
  readonly records: readonly RecordComparison[];
}

/** What a record means for the diff: the FHIR output of an accepted one, the issues of a rejected one. */
function outputOf(r: DryRunRecord): unknown {
  return r.status === 'accepted'
    ? {
        participant: r.participant,
        transaction: r.transaction,
        careTeamMembers: r.careTeamMembers,
        events: r.events,
      }
    : { rejected: r.issues };
}

/**
 * Replays every batch through both partner files (parse + map, as the dry-run does) and compares
 * the results record by record (matched by location within the batch). Pure.
 */
export function compareTraffic(
  batches: readonly RecordedBatch[],
  current: PartnerConfig,
  candidate: PartnerConfig,
  formats: FormatHandlers,
  identifierBase: string,
): GateReport {
  const warnings: string[] = [];
  const records: RecordComparison[] = [];
  batches.forEach((b, i) => {
    const batch = i + 1;
    const handler = formats[b.format];
    if (!handler) {
      warnings.push(`batch ${batch} (${b.receivedAt}): the hub has no adapter for ${b.format}`);
      return;
    }
    if (!candidate.inbound.formats.includes(b.format)) {
      warnings.push(
        `batch ${batch} (${b.receivedAt}): the candidate does not allow ${b.format} (inbound.formats): the hub would refuse it`,
      );
    }
    const before = dryRun(b.body, current, b.format, handler, identifierBase).records;
    const after = new Map(
      dryRun(b.body, candidate, b.format, handler, identifierBase).records.map((r) => [r.location, r]),
    );
    const base = { batch, receivedAt: b.receivedAt, format: b.format };
    for (const old of before) {
      const now = after.get(old.location);
      after.delete(old.location);
      const where = { ...base, location: old.location, ...(old.sourceId ? { sourceId: old.sourceId } : {}) };
      if (!now) {
        warnings.push(`batch ${batch}: ${old.location} is no longer read as a record`);
        continue;
      }
      records.push({ ...where, ...compareRecord(old, now) });
    }
    for (const now of after.values()) {
      warnings.push(`batch ${batch}: ${now.location} is read as a record only by the candidate`);
    }
  });
  return {
    partner: current.id,
    currentVersion: current.mappingVersion ?? UNVERSIONED,
    candidateVersion: candidate.mappingVersion ?? UNVERSIONED,
    batches: batches.length,
    warnings,
    records,
  };
}

function compareRecord(old: DryRunRecord, now: DryRunRecord): RecordOutcome {
  if (old.status === 'accepted' && now.status === 'rejected') {
    return { outcome: 'newly-rejected', issues: now.issues };
  }
  if (old.status === 'rejected' && now.status === 'accepted') {
    return {
      outcome: 'newly-accepted',
      wasRejectedFor: old.issues,
      writes: (now.transaction.entry ?? []).map((e) => e.resource?.resourceType ?? '?'),
    };
  }
  const changes = jsonDiff(outputOf(old), outputOf(now));
  return changes.length === 0 ? { outcome: 'unchanged' } : { outcome: 'changed', changes };
}

/**
 * Validates a candidate file's text for partner `partnerId`; problems name `displayName`.
 * @returns the partner, or the problems
 */
export function parseCandidate(
  partnerId: string,
  displayName: string,
  text: string,
): PartnerConfig | string[] {
  const result = parsePartner(`${partnerId}.yaml`, text);
  if (!Array.isArray(result)) {
    return result;
  }
  return result.map((p) =>
    p.startsWith(`${partnerId}.yaml: /id is`)
      ? `${displayName}: is not a file of partner ${partnerId}: ${p.slice(`${partnerId}.yaml: `.length)}`
      : `${displayName}${p.slice(`${partnerId}.yaml`.length)}`,
  );
}
