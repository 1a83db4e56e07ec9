/**
 * Dates as HMIS exports really write them. The specification asks for `YYYY-MM-DD` and
 * `YYYY-MM-DD hh:mm:ss`, but exports also carry US month-first dates (`02-07-2023 12:00:00`,
 * `7/14/16`) and Oracle-style dates (`08-MAY-67`).
 *
 * Two-digit years: read as the latest year that is not after the export's year (Export.csv
 * ExportDate). Nothing an export records lies after the export itself (births, entries, exits,
 * services), so with an export made in 2017 `67` is 1967, `16` is 2016, `17` is 2017 and `20` is
 * 1920. The window depends on the export, never on today's clock, so the same export always reads
 * the same way.
 */

/** A date (`YYYY-MM-DD`) and, when the text had one, a time of day (`hh:mm:ss`), no zone. */
export interface HmisDate {
  readonly date: string;
  readonly time?: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const TIME = String.raw`(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?`;
const ISO = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})${TIME}$`);
const US = new RegExp(String.raw`^(\d{1,2})([-/])(\d{1,2})\2(\d{4}|\d{2})${TIME}$`);
const ORACLE = new RegExp(String.raw`^(\d{1,2})-([A-Za-z]{3})-(\d{4}|\d{2})${TIME}$`);

/**
 * Reads one date or date-time.
 * @param text - the field, already trimmed and non-empty
 * @param pivotYear - the export's year, for two-digit years
 * @returns the date, or a sentence saying why it is not one
 */
export function parseHmisDate(text: string, pivotYear: number): HmisDate | string {
  let m = ISO.exec(text);
  if (m) {
    return build(Number(m[1]), Number(m[2]), Number(m[3]), m.slice(4, 7), text);
  }
  m = US.exec(text);
  if (m) {
    return build(year(m[4]!, pivotYear), Number(m[1]), Number(m[3]), m.slice(5, 8), text);
  }
  m = ORACLE.exec(text);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toUpperCase()) + 1;
    if (month === 0) {
      return `"${text}" has an unknown month name "${m[2]}"`;
    }
    return build(year(m[3]!, pivotYear), month, Number(m[1]), m.slice(4, 7), text);
  }
  return `"${text}" is not a date (expected YYYY-MM-DD, MM-DD-YYYY, M/D/YY or DD-MON-YY, with an optional time)`;
}

function year(digits: string, pivotYear: number): number {
  if (digits.length === 4) {
    return Number(digits);
  }
  const yy = Number(digits);
  return pivotYear - ((((pivotYear - yy) % 100) + 100) % 100);
}

function build(
  y: number,
  mo: number,
  d: number,
  time: Array<string | undefined>,
  text: string,
): HmisDate | string {
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) {
    return `"${text}" is not a calendar date`;
  }
  const date = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  const [h, mi, s] = time;
  if (h === undefined) {
    return { date };
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) {
    return `"${text}" has an impossible time of day`;
  }
  return { date, time: `${pad(Number(h))}:${mi}:${s ?? '00'}` };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
