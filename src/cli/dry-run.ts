import type { Bundle, BundleEntry, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { parseArgs } from 'node:util';
import { type FieldIssue } from '../adapters/types.js';
import { INBOUND_FORMATS, type InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig } from '../config/partners.js';
import type { FormatHandler } from '../ingest/formats.js';
import type { CareTeamMember, HubEvent, MappedRecord } from '../mappers/types.js';
import { PARTICIPANT_REF } from '../mappers/types.js';

/**
 * The mapping dry-run: what the hub would write for a partner's file, without writing anything.
 * Everything here is pure except {@link validateReport}, which asks the FHIR server's `$validate`.
 */

export const USAGE = `Usage: npm run hub -- dry-run --partner <id> --format <format> [--validate] [--json] <file>

Parses <file> as the partner would send it, maps every record and prints what the hub would
write (one transaction per record) and every rejection with its fields. Writes nothing.
  --validate  also ask the FHIR server (FHIR_BASE_URL) to $validate each resource
  --json      print the whole report as one JSON document
Formats: ${INBOUND_FORMATS.join(', ')}. Partners come from PARTNER_CONFIG_DIR.
Exit code: 0 every record accepted (and valid), 1 otherwise, 2 the dry-run could not run.`;

export interface DryRunCommand {
  readonly command: 'dry-run';
  readonly partner: string;
  readonly format: InboundFormat;
  readonly file: string;
  readonly validate: boolean;
  readonly json: boolean;
}

/** Reads the command line (without `node` and the script); an `error` explains a wrong one. */
export function parseCliArgs(argv: readonly string[]): DryRunCommand | { help: true } | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        partner: { type: 'string', short: 'p' },
        format: { type: 'string', short: 'f' },
        validate: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    return { help: true };
  }
  const [command, file, ...extra] = positionals;
  if (command !== 'dry-run') {
    return { error: `Unknown command "${command}" (the command is dry-run)` };
  }
  const problems = [
    ...(values.partner ? [] : ['--partner <id> is required']),
    ...(!values.format
      ? ['--format <format> is required']
      : (INBOUND_FORMATS as readonly string[]).includes(values.format)
        ? []
        : [`--format "${values.format}" is not one of ${INBOUND_FORMATS.join(', ')}`]),
    ...(file ? [] : ['the file to read is required']),
    ...(extra.length > 0 ? [`one file at a time (also given: ${extra.join(' ')})`] : []),
  ];
  if (problems.length > 0) {
    return { error: problems.join('; ') };
  }
  return {
    command: 'dry-run',
    partner: values.partner!,
    format: values.format as InboundFormat,
    file: file!,
    validate: values.validate,
    json: values.json,
  };
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
      /** The resources, as the writer sends them: conditional updates on their identifiers. */
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
): DryRunReport {
  const warnings = partner.inbound.formats.includes(format)
    ? []
    : [
        `partner ${partner.id} is not configured to send ${format} (inbound.formats: ${partner.inbound.formats.join(', ') || 'none'}): the hub would refuse the file`,
      ];
  const parsed = handler.parse(body, partner);
  const records: DryRunRecord[] = parsed.accepted.map((r): DryRunRecord => {
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

/** A mapped record as the transaction the ingest writer sends (without the CareTeam merge and Provenance). */
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
): Promise<DryRunReport> {
  const records: DryRunRecord[] = [];
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
  }
  return { ...report, records };
}

/** 0 when there were records and every one was accepted with no validation error; else 1. */
export function exitCodeOf(report: DryRunReport): 0 | 1 {
  const bad = report.records.some(
    (r) =>
      r.status === 'rejected' ||
      (r.validation ?? []).some((v) =>
        v.issues.some((i) => i.severity === 'error' || i.severity === 'fatal'),
      ),
  );
  return report.records.length === 0 || bad || report.warnings.length > 0 ? 1 : 0;
}

/** The report for people: a summary, then each record's transaction or its issues. */
export function formatReport(report: DryRunReport, file: string): string {
  const accepted = report.records.filter((r) => r.status === 'accepted').length;
  const lines = [
    `${report.partner} ${report.format} ${file}: ${report.records.length} record(s), ${accepted} accepted, ${report.records.length - accepted} rejected`,
    ...report.warnings.map((w) => `warning: ${w}`),
  ];
  for (const r of report.records) {
    const name = `${r.location}${r.sourceId && !r.location.includes(r.sourceId) ? ` (${r.sourceId})` : ''}`;
    lines.push('');
    if (r.status === 'rejected') {
      lines.push(`== ${name}: REJECTED`, ...r.issues.map((i) => `   ${i.field}: ${i.message}`));
      continue;
    }
    lines.push(
      `== ${name}: accepted`,
      `participant (${PARTICIPANT_REF}): ${r.participant.identifiers.map((i) => `${i.system}|${i.value}`).join(', ')}`,
      ...r.careTeamMembers.map(
        (m) => `care team: ${m.member.reference ?? m.member.display ?? '?'} as ${m.role}`,
      ),
      ...r.events.map((e) => `event: ${e.type} at ${e.at}`),
      JSON.stringify(r.transaction, null, 2),
    );
    for (const v of r.validation ?? []) {
      lines.push(
        `$validate ${v.resourceType} ${v.fullUrl}: ${v.issues.length === 0 ? 'valid' : `${v.issues.length} issue(s)`}`,
        ...v.issues.map(
          (i) =>
            `   ${i.severity} ${(i.expression ?? i.location ?? []).join(', ')}: ${i.diagnostics ?? i.code}`,
        ),
      );
    }
  }
  return lines.join('\n') + '\n';
}
