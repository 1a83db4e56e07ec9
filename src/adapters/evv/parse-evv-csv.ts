import type { SchemaObject } from 'ajv';
import { parse } from 'csv-parse/sync';
import type { PartnerConfig } from '../../config/partners.js';
import { compileSchema, schemaIssues } from '../service-plan/json-schema-issues.js';
import type { FieldIssue, ParsedRecord, ParseResult, RejectedRecord } from '../types.js';
import { DATE_TIME_FORMATS, isTimeZone, toOffsetDateTime } from './local-date-time.js';
import { EVV_COLUMNS, REQUIRED_COLUMNS, type EvvColumn, type EvvVisit, type VisitOutcome } from './types.js';
import { translateVisitStatus, VISIT_STATUSES } from './visit-status.js';

/** Where local times are read when neither the row nor `fieldOverrides['evv.timezone']` says. */
export const DEFAULT_EVV_TIME_ZONE = 'America/New_York';

/** A record as csv-parse gives it with `info` and `raw` on. */
interface CsvRecord {
  readonly record: string[];
  readonly info: { readonly lines: number };
  readonly raw?: string;
}

/** A row as read: known columns only, trimmed, blanks left out. */
type Row = Partial<Record<EvvColumn, string>>;

const id = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$',
  description: '1-64 letters, digits or . _ : / -',
};
const rowSchema: SchemaObject = {
  type: 'object',
  required: [...REQUIRED_COLUMNS],
  properties: {
    ...Object.fromEntries(EVV_COLUMNS.map((c) => [c, { type: 'string' }])),
    VisitID: id,
    MedicaidID: id,
    MemberID: id,
    CaregiverID: id,
    ServiceCode: {
      type: 'string',
      pattern: '^[A-Za-z0-9]{1,10}(-[A-Za-z0-9]{1,4}){0,4}$',
      description: 'a HCPCS code with up to four modifiers appended by dashes (e.g. T1019-U3)',
    },
  },
};
const validateRow = compileSchema<Row>(rowSchema);

/** Header spellings seen in exports, beyond case, spaces and underscores. */
const ALIASES: Readonly<Record<string, EvvColumn>> = {
  checkin: 'ActualStart',
  checkintime: 'ActualStart',
  checkout: 'ActualEnd',
  checkouttime: 'ActualEnd',
  timezone: 'Timezone',
};

/**
 * Reads an EVV visit export (`format: evv-csv`): a CSV with a header row naming the
 * {@link EVV_COLUMNS} (any order, case, spacing; other columns are ignored). Each row is checked
 * on its own and rejected with `row N:Column` (N is the line in the file, the header being row 1).
 * Date-times without a UTC offset are read in the row's Timezone, else the partner's
 * `fieldOverrides['evv.timezone']`, else America/New_York. VisitStatus is translated through
 * `codeTranslations.visitStatus` over common defaults.
 */
export function parseEvvCsv(body: Buffer | string, partner: PartnerConfig): ParseResult<EvvVisit> {
  const text = decode(body);
  const csv = readCsv(text);
  if (csv instanceof Error) {
    return { accepted: [], rejected: [fileRejected(`not readable as CSV: ${csv.message}`, text)] };
  }
  const [header, ...rows] = csv.records;
  if (!header) {
    return {
      accepted: [],
      rejected: [...csv.rejected, fileRejected('the file is empty: a header row is required', text)],
    };
  }
  // A rejected row keeps the header line before it, so that it can be replayed on its own.
  const headerLine = stripEol(header.raw ?? header.record.join(','));
  const withHeader = (raw: string | undefined): string | undefined =>
    raw === undefined ? undefined : `${headerLine}\n${stripEol(raw)}`;
  const rejected = csv.rejected.map((r) => (r.raw === undefined ? r : { ...r, raw: withHeader(r.raw)! }));
  const columns = header.record.map(columnOf);
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  const zone = partnerTimeZone(partner);
  const accepted: Array<ParsedRecord<EvvVisit>> = [];
  const firstRowOf = new Map<string, number>();

  for (const { record, info, raw } of rows) {
    const where = `row ${info.lines}`;
    // Problems of the file or the partner's configuration make every row unreadable.
    const issues: FieldIssue[] = [
      ...missing.map((c) => ({ field: `${where}:${c}`, message: 'column is missing from the header row' })),
      ...(typeof zone === 'string' ? [] : [zone]),
      ...(record.length > header.record.length
        ? [
            {
              field: where,
              message: `has ${record.length} fields but the header has ${header.record.length}`,
            },
          ]
        : []),
    ];
    const row = toRow(record, columns);
    const visit =
      issues.length === 0 && typeof zone === 'string' ? readVisit(row, where, zone, partner) : issues;
    const first = row.VisitID ? firstRowOf.get(row.VisitID) : undefined;
    if (Array.isArray(visit)) {
      rejected.push(rowRejected(where, row.VisitID, visit, withHeader(raw)));
    } else if (first !== undefined) {
      const duplicate = {
        field: `${where}:VisitID`,
        message: `"${visit.visitId}" is already in row ${first}`,
      };
      rejected.push(rowRejected(where, visit.visitId, [duplicate], withHeader(raw)));
    } else {
      firstRowOf.set(visit.visitId, info.lines);
      accepted.push({ location: where, sourceId: visit.visitId, record: visit });
    }
  }
  return { accepted, rejected };
}

/**
 * Splits the text into records; a record that is not valid CSV (a stray quote) is rejected on
 * its own and parsing goes on. An Error when the text cannot be read at all.
 */
function readCsv(text: string): { records: CsvRecord[]; rejected: RejectedRecord[] } | Error {
  const rejected: RejectedRecord[] = [];
  try {
    const records = parse(text, {
      bom: true,
      // Exports mix line endings; detection from the first line alone would split on one kind only.
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
      raw: true,
      info: true,
      skip_records_with_error: true,
      on_skip: (err, raw) => {
        const where = `row ${lineOf(err)}`;
        const issue = { field: where, message: `malformed CSV: ${err?.message ?? 'unreadable record'}` };
        rejected.push({ location: where, issues: [issue], ...(raw !== undefined ? { raw } : {}) });
        return undefined;
      },
      // The typings do not model `info`/`raw`, which wrap each record as { record, info, raw }.
    }) as unknown as CsvRecord[];
    return { records, rejected };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** The row's known columns, trimmed; blank values left out (the first of duplicate columns wins). */
function toRow(record: readonly string[], columns: ReadonlyArray<EvvColumn | undefined>): Row {
  const row: Row = {};
  record.forEach((value, i) => {
    const column = columns[i];
    if (column && row[column] === undefined && value.trim() !== '') {
      row[column] = value.trim();
    }
  });
  return row;
}

/** Validates one row and derives the visit, or lists every problem. */
function readVisit(
  row: Row,
  where: string,
  defaultZone: string,
  partner: PartnerConfig,
): EvvVisit | FieldIssue[] {
  const field = (c: string): string => `${where}:${c}`;
  const issues: FieldIssue[] = validateRow(row)
    ? []
    : schemaIssues(validateRow.errors, (p) => field(p.slice(1)));
  if (!row.MedicaidID && !row.MemberID) {
    issues.push({
      field: field('MemberID'),
      message: 'MedicaidID or MemberID is required to identify the participant',
    });
  }
  const { scheduledStart, scheduledEnd, actualStart, actualEnd } = readTimes(row, defaultZone, field, issues);
  before(scheduledStart, scheduledEnd, field('ScheduledEnd'), 'ScheduledStart', issues);
  before(actualStart, actualEnd, field('ActualEnd'), 'ActualStart', issues);
  if (row.ActualEnd && !row.ActualStart) {
    issues.push({ field: field('ActualStart'), message: 'is required when ActualEnd (check-out) is given' });
  }

  const status = row.VisitStatus ? translateVisitStatus(partner, row.VisitStatus) : undefined;
  if (row.VisitStatus && !status) {
    issues.push({
      field: field('VisitStatus'),
      message: `"${row.VisitStatus}" is not a known visit status: map it in codeTranslations.visitStatus to one of ${VISIT_STATUSES.join(', ')}`,
    });
  }
  const outcome = status ? outcomeOf(status, row, field, issues) : undefined;
  if (issues.length > 0 || !outcome || !scheduledStart || !scheduledEnd) {
    return issues;
  }
  return {
    visitId: row.VisitID!,
    ...(row.MedicaidID ? { medicaidId: row.MedicaidID } : {}),
    ...(row.MemberID ? { memberId: row.MemberID } : {}),
    serviceCode: row.ServiceCode!,
    ...(row.CaregiverID ? { caregiverId: row.CaregiverID } : {}),
    scheduledStart,
    scheduledEnd,
    ...(actualStart ? { actualStart } : {}),
    ...(actualEnd ? { actualEnd } : {}),
    visitStatus: row.VisitStatus!,
    ...(row.ExceptionCode ? { exceptionCode: row.ExceptionCode } : {}),
    outcome: outcome.outcome,
    ...(outcome.missedBecause ? { missedBecause: outcome.missedBecause } : {}),
  };
}

/**
 * The row's four date-times as FHIR `dateTime`s, read in the row's Timezone when it gives one.
 * Unreadable values (and an unknown zone) are added to `issues`.
 */
function readTimes(
  row: Row,
  defaultZone: string,
  field: (c: string) => string,
  issues: FieldIssue[],
): Partial<Record<'scheduledStart' | 'scheduledEnd' | 'actualStart' | 'actualEnd', string>> {
  const zone = row.Timezone ?? defaultZone;
  if (!isTimeZone(zone)) {
    issues.push({
      field: field('Timezone'),
      message: `"${zone}" is not an IANA time zone (e.g. America/Chicago)`,
    });
    return {};
  }
  const time = (c: 'ScheduledStart' | 'ScheduledEnd' | 'ActualStart' | 'ActualEnd'): string | undefined => {
    const value = row[c];
    const parsed = value === undefined ? undefined : toOffsetDateTime(value, zone);
    if (value !== undefined && !parsed) {
      issues.push({ field: field(c), message: `"${value}" is not a date-time (${DATE_TIME_FORMATS})` });
    }
    return parsed;
  };
  return {
    scheduledStart: time('ScheduledStart'),
    scheduledEnd: time('ScheduledEnd'),
    actualStart: time('ActualStart'),
    actualEnd: time('ActualEnd'),
  };
}

/** The hub's reading of a status with the check-in and check-out times; contradictions are issues. */
function outcomeOf(
  status: (typeof VISIT_STATUSES)[number],
  row: Row,
  field: (c: string) => string,
  issues: FieldIssue[],
): { outcome: VisitOutcome; missedBecause?: 'status' | 'no-check-in' } | undefined {
  switch (status) {
    case 'completed':
      for (const c of ['ActualStart', 'ActualEnd'] as const) {
        if (!row[c]) {
          issues.push({
            field: field(c),
            message: `is required: the visit is reported ${row.VisitStatus} (completed)`,
          });
        }
      }
      return { outcome: 'completed' };
    case 'missed':
    case 'cancelled':
      if (row.ActualStart) {
        issues.push({
          field: field('ActualStart'),
          message: `the visit is reported ${row.VisitStatus} (${status}) but has a check-in time`,
        });
      }
      return status === 'missed' ? { outcome: 'missed', missedBecause: 'status' } : { outcome: 'cancelled' };
    case 'scheduled':
      // A scheduled visit nobody checked in to is a missed visit (a missed-visit Flag follows).
      if (!row.ActualStart) {
        return { outcome: 'missed', missedBecause: 'no-check-in' };
      }
      return { outcome: row.ActualEnd ? 'completed' : 'in-progress' };
  }
}

function before(
  start: string | undefined,
  end: string | undefined,
  endField: string,
  startName: string,
  issues: FieldIssue[],
): void {
  if (start && end && Date.parse(end) < Date.parse(start)) {
    issues.push({ field: endField, message: `is before ${startName}` });
  }
}

/** The partner's default zone, or the issue that makes every row unreadable. */
function partnerTimeZone(partner: PartnerConfig): string | FieldIssue {
  const configured = partner.fieldOverrides?.['evv.timezone'];
  if (configured === undefined) {
    return DEFAULT_EVV_TIME_ZONE;
  }
  return typeof configured === 'string' && isTimeZone(configured)
    ? configured
    : {
        field: "fieldOverrides['evv.timezone']",
        message: `partner ${partner.id}: "${String(configured)}" is not an IANA time zone`,
      };
}

function columnOf(name: string): EvvColumn | undefined {
  const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return EVV_COLUMNS.find((c) => c.toLowerCase() === key) ?? ALIASES[key];
}

/** UTF-8 (with or without BOM), or UTF-16LE with its BOM as some exporters write. */
function decode(body: Buffer | string): string {
  if (typeof body === 'string') {
    return body;
  }
  return body[0] === 0xff && body[1] === 0xfe ? body.subarray(2).toString('utf16le') : body.toString('utf8');
}

function lineOf(err: unknown): number | string {
  const lines = (err as { lines?: unknown } | undefined)?.lines;
  return typeof lines === 'number' ? lines : '?';
}

function rowRejected(
  location: string,
  sourceId: string | undefined,
  issues: FieldIssue[],
  raw: string | undefined,
): RejectedRecord {
  return {
    location,
    ...(sourceId ? { sourceId } : {}),
    issues,
    ...(raw !== undefined ? { raw } : {}),
  };
}

function stripEol(raw: string): string {
  return raw.replace(/\r?\n$|\r$/, '');
}

function fileRejected(message: string, raw: string): RejectedRecord {
  return { location: 'file', issues: [{ field: 'file', message }], raw };
}
