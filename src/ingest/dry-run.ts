import type { Bundle, BundleEntry, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import type { FieldIssue } from '../adapters/types.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig } from '../config/partners.js';
import type { CareTeamMember, HubEvent, MappedRecord } from '../mappers/types.js';
import type { FormatHandler } from './formats.js';

/**
 * The mapping dry-run: what the hub would write for a partner's file, without writing anything
 * (the CLI's `dry-run`, the release gate and the mapping test bench page). Pure except
 * {@link validateReport}, which asks the FHIR server's `$validate`.
 */

/** Counts work done, for a progress bar (the CLI's). */
export interface Ticker {
  tick(): void;
  done(): void;
}

/** `$validate` result of one resource of a record. */
export interface ResourceValidation {
  readonly fullUrl: string;
  readonly resourceType: string;
  readonly issues: readonly OperationOutcomeIssue[];
}

/** What the hub would do with one record. */
export type DryRunRecord =
  | {
      readonly status: 'accepted';
      readonly location: string;
      readonly sourceId: string;
      /** Identifiers the Patient is found or created by (`urn:hub:participant` in the resources). */
      readonly participant: MappedRecord['participant'];
      /** The resources, each by its identifier (shown as a conditional update; see ingest/source-order.ts). */
      readonly transaction: Bundle;
      readonly careTeamMembers: readonly CareTeamMember[];
      readonly events: readonly HubEvent[];
      readonly validation?: readonly ResourceValidation[];
    }
  | {
      readonly status: 'rejected';
      readonly location: string;
      readonly sourceId?: string;
      readonly issues: readonly FieldIssue[];
    };

export interface DryRunReport {
  readonly partner: string;
  readonly format: InboundFormat;
  /** Problems with the partner itself (e.g. the format is not in its `inbound.formats`). */
  readonly warnings: readonly string[];
  readonly records: readonly DryRunRecord[];
}

/** Parses `body` with the format's adapter and maps every accepted record; writes nothing. */
export function dryRun(
  body: Buffer,
  partner: PartnerConfig,
  format: InboundFormat,
  handler: FormatHandler,
  identifierBase: string,
  progress?: (total: number) => Ticker,
): DryRunReport {
  const warnings = partner.inbound.formats.includes(format)
    ? []
    : [
        `partner ${partner.id} is not configured to send ${format} (inbound.formats: ${partner.inbound.formats.join(', ') || 'none'}): the hub would refuse the file`,
      ];
  const parsed = handler.parse(body, partner);
  const mapping = progress?.(parsed.accepted.length);
  const records: DryRunRecord[] = parsed.accepted.map((r): DryRunRecord => {
    mapping?.tick();
    try {
      const mapped = handler.map(r.record, { partner, identifierBase });
      return {
        status: 'accepted',
        location: r.location,
        sourceId: r.sourceId,
        participant: mapped.participant,
        transaction: transactionOf(mapped),
        careTeamMembers: mapped.careTeamMembers ?? [],
        events: mapped.events,
      };
    } catch (err) {
      const issues = [{ field: '(mapping)', message: (err as Error).message }];
      return { status: 'rejected', location: r.location, sourceId: r.sourceId, issues };
    }
  });
  mapping?.done();
  for (const r of parsed.rejected) {
    records.push({
      status: 'rejected',
      location: r.location,
      ...(r.sourceId ? { sourceId: r.sourceId } : {}),
      issues: r.issues,
    });
  }
  return { partner: partner.id, format, warnings, records };
}

/**
 * A mapped record as a transaction, each resource by its identifier, without the CareTeam merge and
 * Provenance. The writer itself plans each entry from what the server holds (ingest/source-order.ts).
 */
export function transactionOf(mapped: MappedRecord): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: mapped.writes.map((w): BundleEntry => ({
      fullUrl: w.fullUrl,
      resource: w.resource,
      request: {
        method: 'PUT',
        url: `${w.resource.resourceType}?identifier=${encodeURIComponent(`${w.identifier.system}|${w.identifier.value}`)}`,
      },
    })),
  };
}

/** Asks `$validate` about every resource of every accepted record. */
export async function validateReport(
  report: DryRunReport,
  validate: (resource: NonNullable<BundleEntry['resource']>) => Promise<OperationOutcome>,
  progress?: (total: number) => Ticker,
): Promise<DryRunReport> {
  const records: DryRunRecord[] = [];
  const checking = progress?.(report.records.filter((r) => r.status === 'accepted').length);
  for (const r of report.records) {
    if (r.status !== 'accepted') {
      records.push(r);
      continue;
    }
    const validation: ResourceValidation[] = [];
    for (const e of r.transaction.entry ?? []) {
      const outcome = await validate(e.resource!);
      validation.push({
        fullUrl: e.fullUrl!,
        resourceType: e.resource!.resourceType,
        // HAPI answers a clean resource with one "No issues detected" information issue.
        issues: (outcome.issue ?? []).filter((i) => i.severity !== 'information'),
      });
    }
    records.push({ ...r, validation });
    checking?.tick();
  }
  checking?.done();
  return { ...report, records };
}
