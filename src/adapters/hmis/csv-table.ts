import { parse } from 'csv-parse/sync';

/** One data row, its values read by header name. */
export interface CsvRow {
  /** Row number as a spreadsheet shows it: the header is row 1. */
  readonly row: number;
  /** The row as received, without its line ending. */
  readonly raw: string;
  /** Trimmed values of the wanted columns; empty fields (`""` included) are left out. */
  readonly values: Readonly<Record<string, string>>;
}

/** A row the CSV syntax itself broke (unclosed quote, wrong number of fields). */
export interface BrokenRow {
  readonly row: number;
  readonly raw: string;
  readonly message: string;
}

export interface CsvTable {
  /** The header line as received, to put before a rejected row so it stays readable on its own. */
  readonly headerLine: string;
  /** Wanted columns the header does not have. */
  readonly missingColumns: readonly string[];
  readonly rows: readonly CsvRow[];
  readonly broken: readonly BrokenRow[];
}

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/**
 * Reads a decoded CSV file. Columns are found by header name, case-insensitively and whether the
 * header is quoted or not; only `columns` are read. Values are kept as text, never evaluated, so
 * values that look like spreadsheet formulas (`=`, `+`, `-`, `@`) are just text. A row with a
 * syntax error or the wrong number of fields is reported as broken, and reading goes on with the
 * next row.
 * @returns undefined when the file has no header row at all
 */
export function readCsvTable(text: string, columns: readonly string[]): CsvTable | undefined {
  const broken: BrokenRow[] = [];
  const records = parse(text, {
    info: true,
    raw: true,
    relax_quotes: true,
    // Spaces around a delimiter must not hide an opening quote (`,  "Ana"`).
    ltrim: true,
    rtrim: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err, raw) => {
      const lines = (err as { lines?: number } | undefined)?.lines ?? 0;
      const rawText = raw ?? '';
      broken.push({
        row: firstLine(lines, rawText),
        raw: stripEol(rawText),
        message: `is not valid CSV: ${err?.message ?? 'unreadable'}`,
      });
      return undefined;
    },
  }) as unknown as ParsedRecord[];
  const [head, ...data] = records;
  if (!head) {
    return undefined;
  }
  const header = head.record.map((h) => h.trim().toLowerCase());
  const index = new Map<string, number>();
  const missingColumns: string[] = [];
  for (const column of columns) {
    const at = header.indexOf(column.toLowerCase());
    if (at < 0) {
      missingColumns.push(column);
    } else {
      index.set(column, at);
    }
  }
  const rows: CsvRow[] = [];
  for (const r of data) {
    const row = firstLine(r.info.lines, r.raw);
    const raw = stripEol(r.raw);
    if (r.record.length !== header.length) {
      broken.push({ row, raw, message: `has ${r.record.length} fields; the header has ${header.length}` });
      continue;
    }
    const values: Record<string, string> = {};
    for (const [column, at] of index) {
      const value = r.record[at]!.trim();
      if (value !== '') {
        values[column] = value;
      }
    }
    rows.push({ row, raw, values });
  }
  broken.sort((a, b) => a.row - b.row);
  return { headerLine: stripEol(head.raw), missingColumns, rows, broken };
}

/** csv-parse counts lines up to the end of a record; a quoted field may span several lines. */
function firstLine(lastLine: number, raw: string): number {
  return lastLine - (stripEol(raw).match(/\n/g)?.length ?? 0);
}

function stripEol(raw: string): string {
  return raw.replace(/\n$/, '');
}
