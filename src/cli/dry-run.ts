import { parseArgs } from 'node:util';
import { INBOUND_FORMATS, type InboundFormat } from '../config/inbound-formats.js';
import type { DryRunReport } from '../ingest/dry-run.js';
import { PARTICIPANT_REF } from '../mappers/types.js';

/** The `dry-run` command: its arguments and its report for people (the dry-run itself: ingest/dry-run.ts). */

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
