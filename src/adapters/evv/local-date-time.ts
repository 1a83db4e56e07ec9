/**
 * Date-times as EVV exports write them, turned into FHIR `dateTime`s with a UTC offset. A value
 * without an offset is a wall-clock time in an IANA time zone; the offset comes from the runtime's
 * time-zone data (Intl), so the same input always gives the same output.
 */

/** What the parser accepts, for error messages. */
export const DATE_TIME_FORMATS = 'YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] or MM/DD/YYYY HH:MM[:SS] [AM|PM]';

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?$/;

interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * Parses `value`; a value without offset is read in `timeZone`.
 * @returns `YYYY-MM-DDTHH:MM:SS±HH:MM` (or `Z`), or undefined when the value is not a valid date-time
 */
export function toOffsetDateTime(value: string, timeZone: string): string | undefined {
  const iso = ISO.exec(value.trim());
  if (iso) {
    const [, y, mo, d, h, mi, s, offset] = iso;
    const wall = checked(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0));
    if (!wall) {
      return undefined;
    }
    if (offset) {
      const normalized = offset === 'Z' ? 'Z' : offset.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
      return validOffset(normalized) ? `${formatWall(wall)}${normalized}` : undefined;
    }
    return inZone(wall, timeZone);
  }
  const us = US.exec(value.trim());
  if (us) {
    const [, mo, d, y, h, mi, s, meridiem] = us;
    let hour = Number(h);
    if (meridiem) {
      if (hour < 1 || hour > 12) {
        return undefined;
      }
      hour = (hour % 12) + (meridiem.toLowerCase() === 'p' ? 12 : 0);
    }
    const wall = checked(Number(y), Number(mo), Number(d), hour, Number(mi), Number(s ?? 0));
    return wall ? inZone(wall, timeZone) : undefined;
  }
  return undefined;
}

/** True when `timeZone` is an IANA zone the runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wall time in `timeZone` with that zone's offset at that moment. In the hour skipped when
 * clocks go forward the time is read with the offset before the change; in the repeated hour
 * when they go back, the first (earlier) of the two moments is taken.
 */
function inZone(wall: WallTime, timeZone: string): string {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  // Offsets in force a day either side: at most one clock change lies between them.
  const before = offsetMinutes(asUtc - DAY_MS, timeZone);
  const after = offsetMinutes(asUtc + DAY_MS, timeZone);
  const fits = [before, after].filter((o) => offsetMinutes(asUtc - o * 60_000, timeZone) === o);
  const offset = fits.length > 0 ? Math.max(...fits) : before;
  return `${formatWall(wall)}${formatOffset(offset)}`;
}

const DAY_MS = 24 * 3600_000;

/** Minutes to add to UTC to get wall time in `timeZone` at `epochMs`. */
function offsetMinutes(epochMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const wallAsUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return Math.round((wallAsUtc - Math.floor(epochMs / 1000) * 1000) / 60_000);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for a zone the runtime does not know.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function checked(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): WallTime | undefined {
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const ok =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
  return ok ? { year, month, day, hour, minute, second } : undefined;
}

function validOffset(offset: string): boolean {
  const m = /^[+-](\d{2}):(\d{2})$/.exec(offset);
  return offset === 'Z' || (m !== null && Number(m[1]) <= 14 && Number(m[2]) <= 59);
}

function formatWall(w: WallTime): string {
  const p = (n: number, len = 2): string => String(n).padStart(len, '0');
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
