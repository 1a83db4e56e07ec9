import type { FieldIssue, ParsedRecord, RejectedRecord } from '../types.js';
import {
  checkRowShape,
  CLIENT,
  type ColumnIssue,
  CURRENT_LIVING_SITUATION,
  ENROLLMENT,
  EXIT,
  EXPORT,
  type FileSpec,
  ORGANIZATION,
  PROJECT,
  SERVICES,
} from './columns.js';
import { type CsvRow, type CsvTable, readCsvTable } from './csv-table.js';
import { type HmisDate, parseHmisDate } from './hmis-dates.js';
import {
  DATA_QUALITY_CODES,
  FY2022_LIVING_SITUATIONS,
  LIVING_SITUATIONS,
  PROJECT_TYPES,
  RECORD_TYPES,
} from './hud-lists.js';
import {
  DEFAULT_EXPORT_LIMITS,
  type ExportLimits,
  ExportArchiveError,
  decodeCsv,
  unzipExport,
} from './read-export.js';
import type {
  HmisClientRecord,
  HmisCurrentLivingSituation,
  HmisEnrollment,
  HmisExit,
  HmisExportInfo,
  HmisLivingSituation,
  HmisParseResult,
  HmisProject,
  HmisService,
  SkippedRow,
} from './types.js';

/** Where a whole-batch problem is reported. */
const BATCH = 'HMIS export';

/**
 * Reads a HUD HMIS CSV export (FY2022, FY2024 or FY2026 columns, read by header name) into one
 * record per client of Client.csv, each gathering its enrollments with their project and
 * organization, exit, current living situations and services.
 *
 * - Client.csv and Export.csv are required: without them, or when either is unreadable, the whole
 *   batch is rejected with one record naming the file. Enrollment.csv, Exit.csv,
 *   CurrentLivingSituation.csv, Services.csv, Project.csv and Organization.csv are optional;
 *   other files are not read.
 * - A bad row is rejected on its own, naming file, row and column (`Enrollment.csv row 12:PersonalID`);
 *   it rejects its client only when it is the Client row itself. Rows that point at a client or
 *   enrollment missing from the export, or at one whose row was rejected, are rejected too.
 * - Rows with DateDeleted, and rows belonging to a deleted client or enrollment, are listed in
 *   `skipped` (counted, never written, never replayed).
 * @param files - the export's files by name; folders in names are ignored, case is not significant
 */
export function parseHmisExport(files: ReadonlyMap<string, Buffer>): HmisParseResult {
  const found = new Map<FileSpec, { name: string; bytes: Buffer }>();
  const batchIssues: FieldIssue[] = [];
  for (const [name, bytes] of files) {
    const base = name.split(/[\\/]/).pop()!.toLowerCase();
    const spec = SPECS.find((s) => s.file.toLowerCase() === base);
    if (!spec) {
      continue;
    }
    const earlier = found.get(spec);
    if (earlier) {
      batchIssues.push({
        field: spec.file,
        message: `appears twice in the export (${earlier.name}, ${name})`,
      });
    }
    found.set(spec, { name, bytes });
  }
  for (const spec of [EXPORT, CLIENT]) {
    if (!found.has(spec)) {
      batchIssues.push({
        field: spec.file,
        message: 'is missing from the export: Client.csv and Export.csv are required',
      });
    }
  }
  if (batchIssues.length > 0) {
    return rejectBatch(batchIssues);
  }

  const tables = new Map<FileSpec, CsvTable>();
  const fileProblems: RejectedRecord[] = [];
  for (const [spec, { bytes }] of found) {
    const table = readCsvTable(decodeCsv(bytes), [...spec.required, ...spec.optional]);
    const issues: FieldIssue[] = !table
      ? [{ field: spec.file, message: 'is empty: it has no header row' }]
      : table.missingColumns
          .filter((c) => spec.required.includes(c))
          .map((c) => ({ field: `${spec.file}:${c}`, message: 'column is missing from the header' }));
    if (table && issues.length === 0) {
      tables.set(spec, table);
    } else {
      fileProblems.push({ location: spec.file, issues });
    }
  }
  const required = fileProblems.filter((p) => p.location === EXPORT.file || p.location === CLIENT.file);
  if (required.length > 0) {
    return rejectBatch(required.flatMap((p) => p.issues));
  }

  const exportInfo = readExport(tables.get(EXPORT)!);
  if (Array.isArray(exportInfo)) {
    return rejectBatch(exportInfo);
  }
  const unreadable = new Set(fileProblems.map((p) => p.location));
  const reader = new ExportReader(exportInfo, tables, unreadable);
  const result = reader.read();
  return { ...result, rejected: [...fileProblems, ...result.rejected] };
}

/**
 * Unzips and reads an export in one step, as the ingest endpoint receives it. An archive that is
 * not a zip, holds unsafe entry names or exceeds `limits` is rejected as a whole batch.
 */
export function parseHmisZip(zip: Buffer, limits: ExportLimits = DEFAULT_EXPORT_LIMITS): HmisParseResult {
  let files: Map<string, Buffer>;
  try {
    files = unzipExport(zip, limits);
  } catch (err) {
    if (err instanceof ExportArchiveError) {
      return rejectBatch([{ field: 'archive', message: err.message }]);
    }
    throw err;
  }
  return parseHmisExport(files);
}

const SPECS: readonly FileSpec[] = [
  EXPORT,
  ORGANIZATION,
  PROJECT,
  CLIENT,
  ENROLLMENT,
  EXIT,
  CURRENT_LIVING_SITUATION,
  SERVICES,
];

function rejectBatch(issues: FieldIssue[]): HmisParseResult {
  return { accepted: [], rejected: [{ location: BATCH, issues }], skipped: [] };
}

interface ExportContext extends HmisExportInfo {
  /** Year two-digit years are read against (see hmis-dates.ts). */
  readonly pivotYear: number;
  /** Export.csv says FY2022, or is FY2020 or older (no CSVVersion): living situation codes need HUD's crosswalk. */
  readonly legacyCodes: boolean;
}

/** HMIS CSV specifications the hub reads, by fiscal year (README, HTTP ingest). */
const KNOWN_VERSIONS: readonly number[] = [2020, 2022, 2024, 2026];

function readExport(table: CsvTable): ExportContext | FieldIssue[] {
  const count = table.rows.length + table.broken.length;
  if (count !== 1 || table.rows.length !== 1) {
    return [
      {
        field: EXPORT.file,
        message: `must have exactly one readable data row; it has ${count}${table.broken.length ? `, ${table.broken.length} unreadable` : ''}`,
      },
    ];
  }
  const row = table.rows[0]!;
  const at = (column: string): string => `${EXPORT.file} row ${row.row}:${column}`;
  const issues: FieldIssue[] = checkRowShape(EXPORT, row.values).map((i) => ({
    field: at(i.column),
    message: i.message,
  }));
  const exportDate = row.values.ExportDate;
  if (exportDate !== undefined) {
    // The export's own date sets the two-digit-year window, so it must carry all four digits.
    const parsed = /\b\d{4}\b/.test(exportDate)
      ? parseHmisDate(exportDate, 0)
      : `"${exportDate}" must have a four-digit year`;
    if (typeof parsed === 'string') {
      issues.push({ field: at('ExportDate'), message: parsed });
    } else if (issues.length === 0) {
      const csvVersion = row.values.CSVVersion;
      // FY2020 and older exports have no CSVVersion; from FY2022 it names the specification.
      const versionYear = csvVersion === undefined ? 2020 : Number(/^(\d{4})\b/.exec(csvVersion)?.[1]);
      if (!KNOWN_VERSIONS.includes(versionYear)) {
        return [
          {
            field: at('CSVVersion'),
            message: `"${csvVersion}" is not a version the hub reads (FY2020 without CSVVersion, ${KNOWN_VERSIONS.slice(1).join(', ')})`,
          },
        ];
      }
      return {
        exportId: row.values.ExportID!,
        ...(csvVersion ? { csvVersion } : {}),
        exportDate: parsed.date,
        exportedAt: parsed.time ? `${parsed.date}T${parsed.time}` : parsed.date,
        pivotYear: Number(parsed.date.slice(0, 4)),
        legacyCodes: versionYear < 2024,
      };
    }
  }
  return issues;
}

/** What became of one row, kept by id so that rows pointing at it can be checked. */
type Outcome<T> =
  | { readonly kind: 'ok'; readonly location: string; readonly value: T }
  | { readonly kind: 'rejected' | 'skipped'; readonly location: string };

/** A row's pointer at another file's row (Enrollment.PersonalID -> Client.csv). */
interface ParentRef {
  readonly column: string;
  readonly what: string;
  readonly file: string;
  /** Undefined when the file is not in the export (or unreadable). */
  readonly index: ReadonlyMap<string, Outcome<unknown>> | undefined;
  /** Reject the row when the file is absent (otherwise the link is simply not made). */
  readonly requiredFile: boolean;
}

interface ClientRow extends Omit<HmisClientRecord, 'enrollments' | 'export'> {
  readonly enrollments: HmisEnrollment[];
}

interface EnrollmentRow {
  readonly personalId: string;
  readonly enrollment: {
    -readonly [K in keyof HmisEnrollment]: HmisEnrollment[K];
  } & { currentLivingSituations: HmisCurrentLivingSituation[]; services: HmisService[] };
}

/** Turns a row that passed the generic checks into its typed value; may add issues of its own. */
type Builder<T> = (
  v: Readonly<Record<string, string>>,
  d: Readonly<Record<string, HmisDate>>,
  issues: ColumnIssue[],
  location: string,
) => T;

interface ChildRow<T> {
  readonly enrollmentId: string;
  readonly value: T;
}

/** Reads the files of one export in dependency order and assembles the client records. */
class ExportReader {
  private readonly rejected: RejectedRecord[] = [];
  private readonly skipped: SkippedRow[] = [];

  constructor(
    private readonly exp: ExportContext,
    private readonly tables: ReadonlyMap<FileSpec, CsvTable>,
    /** Files in the export that could not be read (their problem is reported once, per file). */
    private readonly unreadable: ReadonlySet<string>,
  ) {}

  read(): HmisParseResult {
    const organizations = this.file(ORGANIZATION, [], (v) => ({ name: v.OrganizationName }));
    const projects = this.file(
      PROJECT,
      [link('OrganizationID', 'organization', ORGANIZATION, organizations, false)],
      (v, _d, issues) => {
        const org = organizations?.get(v.OrganizationID!);
        const project: HmisProject = {
          organizationId: v.OrganizationID!,
          ...(v.ProjectName ? { name: v.ProjectName } : {}),
          ...(org?.kind === 'ok' && org.value.name ? { organizationName: org.value.name } : {}),
          ...this.code(
            v,
            'ProjectType',
            PROJECT_TYPES,
            'project type (list 2.02.6)',
            issues,
            (code, display) => ({ type: { code, display } }),
          ),
        };
        return project;
      },
    );
    const clients = this.file(CLIENT, [], (v, d, issues): ClientRow => {
      for (const column of ['NameDataQuality', 'SSNDataQuality', 'DOBDataQuality']) {
        const code = v[column];
        if (code !== undefined && !DATA_QUALITY_CODES.includes(Number(code))) {
          issues.push({ column, message: `${code} is not a HUD data quality code (1, 2, 8, 9, 99)` });
        }
      }
      const num = (column: string): number | undefined =>
        v[column] === undefined ? undefined : Number(v[column]);
      return {
        personalId: v.PersonalID!,
        name: {
          ...(v.FirstName ? { first: v.FirstName } : {}),
          ...(v.MiddleName ? { middle: v.MiddleName } : {}),
          ...(v.LastName ? { last: v.LastName } : {}),
          ...(v.NameSuffix ? { suffix: v.NameSuffix } : {}),
          ...(v.NameDataQuality ? { dataQuality: num('NameDataQuality') } : {}),
        },
        ...(v.SSN ? { ssn: v.SSN } : {}),
        ...(v.SSNDataQuality ? { ssnDataQuality: num('SSNDataQuality') } : {}),
        ...(d.DOB ? { dob: d.DOB.date } : {}),
        ...(v.DOBDataQuality ? { dobDataQuality: num('DOBDataQuality') } : {}),
        enrollments: [],
      };
    });
    const enrollments = this.file(
      ENROLLMENT,
      [
        link('PersonalID', 'client', CLIENT, clients, true),
        link('ProjectID', 'project', PROJECT, projects, false),
      ],
      (v, d): EnrollmentRow => {
        const project = projects?.get(v.ProjectID!);
        return {
          personalId: v.PersonalID!,
          enrollment: {
            enrollmentId: v.EnrollmentID!,
            entryDate: d.EntryDate!.date,
            ...(d.MoveInDate ? { moveInDate: d.MoveInDate.date } : {}),
            projectId: v.ProjectID!,
            ...(project?.kind === 'ok' ? { project: project.value } : {}),
            currentLivingSituations: [],
            services: [],
          },
        };
      },
    );
    const exitsByEnrollment = new Map<string, string>();
    const exits = this.child(EXIT, enrollments, (v, d, issues, location): HmisExit => {
      const earlier = exitsByEnrollment.get(v.EnrollmentID!);
      if (earlier) {
        issues.push({
          column: 'EnrollmentID',
          message: `enrollment ${v.EnrollmentID} already has an exit (${earlier})`,
        });
      } else {
        exitsByEnrollment.set(v.EnrollmentID!, location);
      }
      return {
        exitId: v.ExitID!,
        exitDate: d.ExitDate!.date,
        ...(v.Destination === undefined
          ? {}
          : { destination: this.livingSituation(v, 'Destination', issues) }),
      };
    });
    const situations = this.child(
      CURRENT_LIVING_SITUATION,
      enrollments,
      (v, d, issues): HmisCurrentLivingSituation => ({
        currentLivingSitId: v.CurrentLivingSitID!,
        informationDate: d.InformationDate!.date,
        situation: this.livingSituation(v, 'CurrentLivingSituation', issues),
      }),
    );
    const services = this.child(SERVICES, enrollments, (v, d, issues): HmisService => ({
      servicesId: v.ServicesID!,
      dateProvided: d.DateProvided!.date,
      typeProvided: Number(v.TypeProvided),
      recordType: this.code(
        v,
        'RecordType',
        RECORD_TYPES,
        'record type (list 1.4)',
        issues,
        (code, display) => ({ code, display }),
      ) ?? {
        code: Number(v.RecordType),
        display: '',
      },
    }));

    for (const e of okValues(enrollments)) {
      const exit = exits.get(e.enrollment.enrollmentId)?.[0];
      if (exit) {
        e.enrollment.exit = exit;
      }
      e.enrollment.currentLivingSituations = situations.get(e.enrollment.enrollmentId) ?? [];
      e.enrollment.services = services.get(e.enrollment.enrollmentId) ?? [];
      const client = clients?.get(e.personalId);
      if (client?.kind === 'ok') {
        client.value.enrollments.push(e.enrollment);
      }
    }
    const { pivotYear: _p, legacyCodes: _l, ...exportInfo } = this.exp;
    const accepted: Array<ParsedRecord<HmisClientRecord>> = [];
    for (const [, outcome] of clients ?? []) {
      if (outcome.kind === 'ok') {
        accepted.push({
          location: outcome.location,
          sourceId: outcome.value.personalId,
          record: { ...outcome.value, export: exportInfo },
        });
      }
    }
    return { accepted, rejected: this.rejected, skipped: this.skipped };
  }

  /** Reads the rows of Exit.csv, CurrentLivingSituation.csv or Services.csv, grouped by enrollment. */
  private child<T>(
    spec: FileSpec,
    enrollments: ReadonlyMap<string, Outcome<EnrollmentRow>> | undefined,
    build: Builder<T>,
  ): Map<string, T[]> {
    const rows = this.file(
      spec,
      [link('EnrollmentID', 'enrollment', ENROLLMENT, enrollments, true)],
      (v, d, issues, location): ChildRow<T> => {
        // Reached only when the enrollment row is usable (the link check passed).
        const enrollment = enrollments?.get(v.EnrollmentID!);
        if (enrollment?.kind === 'ok' && enrollment.value.personalId !== v.PersonalID) {
          issues.push({
            column: 'PersonalID',
            message: `does not match the PersonalID of enrollment ${v.EnrollmentID} (${enrollment.location})`,
          });
        }
        return { enrollmentId: v.EnrollmentID!, value: build(v, d, issues, location) };
      },
    );
    const grouped = new Map<string, T[]>();
    for (const { enrollmentId, value } of okValues(rows)) {
      grouped.set(enrollmentId, [...(grouped.get(enrollmentId) ?? []), value]);
    }
    return grouped;
  }

  /**
   * Reads one file: checks each row's shape, dates, code lists and links, skips deleted rows, and
   * rejects every row of an id that appears more than once. Returns the outcomes by row id, or
   * undefined when the file is not in the export (or could not be read).
   */
  private file<T>(
    spec: FileSpec,
    parents: readonly ParentRef[],
    build: Builder<T>,
  ): Map<string, Outcome<T>> | undefined {
    const table = this.tables.get(spec);
    if (!table) {
      return undefined;
    }
    for (const b of table.broken) {
      this.rejected.push({
        location: `${spec.file} row ${b.row}`,
        issues: [{ field: `${spec.file} row ${b.row}`, message: b.message }],
        raw: `${table.headerLine}\n${b.raw}`,
      });
    }
    const outcomes: Array<{ row: CsvRow; id?: string; outcome: Outcome<T>; issues: ColumnIssue[] }> = [];
    for (const row of table.rows) {
      const location = `${spec.file} row ${row.row}`;
      const v = row.values;
      const issues = checkRowShape(spec, v);
      const dates: Record<string, HmisDate> = {};
      for (const column of spec.dates) {
        if (v[column] !== undefined) {
          const parsed = parseHmisDate(v[column], this.exp.pivotYear);
          if (typeof parsed === 'string') {
            issues.push({ column, message: parsed });
          } else {
            dates[column] = parsed;
          }
        }
      }
      const id = v[spec.id];
      if (dates.DateDeleted) {
        this.skipped.push({ location, ...(id ? { sourceId: id } : {}), reason: 'deleted' });
        outcomes.push({ row, id, outcome: { kind: 'skipped', location }, issues: [] });
        continue;
      }
      const deletedParent = this.checkParents(parents, v, issues);
      if (deletedParent) {
        this.skipped.push({
          location,
          ...(id ? { sourceId: id } : {}),
          reason: 'parent-deleted',
          parent: deletedParent,
        });
        outcomes.push({ row, id, outcome: { kind: 'skipped', location }, issues: [] });
        continue;
      }
      // Build only from a row whose shape and dates hold: builders rely on required values.
      const value = issues.length === 0 ? build(v, dates, issues, location) : undefined;
      outcomes.push({
        row,
        id,
        outcome:
          issues.length === 0 ? { kind: 'ok', location, value: value as T } : { kind: 'rejected', location },
        issues,
      });
    }

    const seen = new Map<string, number[]>();
    for (const o of outcomes) {
      if (o.id !== undefined && o.outcome.kind !== 'skipped') {
        seen.set(o.id, [...(seen.get(o.id) ?? []), o.row.row]);
      }
    }
    const index = new Map<string, Outcome<T>>();
    for (const o of outcomes) {
      const rows = o.id === undefined ? [] : (seen.get(o.id) ?? []);
      if (rows.length > 1) {
        o.issues.push({
          column: spec.id,
          message: `${o.id} appears on more than one row (rows ${rows.join(', ')})`,
        });
        o.outcome = { kind: 'rejected', location: o.outcome.location };
      }
      if (o.outcome.kind === 'rejected') {
        this.rejected.push({
          location: o.outcome.location,
          ...(o.id ? { sourceId: o.id } : {}),
          issues: o.issues.map((i) => ({ field: `${o.outcome.location}:${i.column}`, message: i.message })),
          raw: `${table.headerLine}\n${o.row.raw}`,
        });
      }
      const current = o.id === undefined ? undefined : index.get(o.id);
      // A usable row wins over a rejected one, which wins over a deleted one with the same id.
      if (o.id !== undefined && (!current || rank(o.outcome) > rank(current))) {
        index.set(o.id, o.outcome);
      }
    }
    return index;
  }

  /**
   * Checks a row's links. Adds an issue for a missing or rejected parent; returns the parent's
   * location when the parent is deleted (the row is then skipped with it).
   */
  private checkParents(
    parents: readonly ParentRef[],
    v: Readonly<Record<string, string>>,
    issues: ColumnIssue[],
  ): string | undefined {
    for (const p of parents) {
      const key = v[p.column];
      if (key === undefined) {
        continue; // already reported as required
      }
      if (!p.index) {
        if (p.requiredFile) {
          const why = this.unreadable.has(p.file) ? 'could not be read' : 'is not in the export';
          issues.push({ column: p.column, message: `no ${p.what} with this ${p.column}: ${p.file} ${why}` });
        }
        continue;
      }
      const parent = p.index.get(key);
      if (!parent) {
        issues.push({ column: p.column, message: `no ${p.what} with this ${p.column} in ${p.file}` });
      } else if (parent.kind === 'rejected') {
        issues.push({ column: p.column, message: `its ${p.what} row is rejected (${parent.location})` });
      } else if (parent.kind === 'skipped') {
        return parent.location;
      }
    }
    return undefined;
  }

  /** A living situation code, through HUD's FY2022 crosswalk for older exports. */
  private livingSituation(
    v: Readonly<Record<string, string>>,
    column: string,
    issues: ColumnIssue[],
  ): HmisLivingSituation {
    const sent = Number(v[column]);
    const code = this.exp.legacyCodes ? FY2022_LIVING_SITUATIONS.get(sent) : sent;
    const entry = code === undefined ? undefined : LIVING_SITUATIONS.get(code);
    if (code === undefined || !entry) {
      const list = this.exp.legacyCodes
        ? `FY2022 list (${this.exp.csvVersion ? `CSVVersion ${this.exp.csvVersion}` : 'an FY2020 export, without CSVVersion'})`
        : 'FY2024 list 3.12.1';
      issues.push({ column, message: `${sent} is not a HUD living situation code (${list})` });
      return { code: sent, display: '', category: 'unknown' };
    }
    return { code, ...entry };
  }

  /** Resolves an optional HUD code column; adds an issue when the code is not in `list`. */
  private code<R>(
    v: Readonly<Record<string, string>>,
    column: string,
    list: ReadonlyMap<number, string>,
    what: string,
    issues: ColumnIssue[],
    make: (code: number, display: string) => R,
  ): R | undefined {
    if (v[column] === undefined) {
      return undefined;
    }
    const code = Number(v[column]);
    const display = list.get(code);
    if (display === undefined) {
      issues.push({ column, message: `${code} is not a HUD ${what}` });
      return undefined;
    }
    return make(code, display);
  }
}

function rank(o: Outcome<unknown>): number {
  return o.kind === 'ok' ? 2 : o.kind === 'rejected' ? 1 : 0;
}

function* okValues<T>(index: ReadonlyMap<string, Outcome<T>> | undefined): Generator<T> {
  for (const [, o] of index ?? []) {
    if (o.kind === 'ok') {
      yield o.value;
    }
  }
}

function link(
  column: string,
  what: string,
  spec: FileSpec,
  index: ReadonlyMap<string, Outcome<unknown>> | undefined,
  requiredFile: boolean,
): ParentRef {
  return { column, what, file: spec.file, index, requiredFile };
}
