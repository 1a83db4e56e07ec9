import { formatWall, inZone, type WallTime } from '../../time/wall-time.js';

export { isTimeZone } from '../../time/wall-time.js';

/**
 * Date-times as EVV exports write them, turned into FHIR `dateTime`s with a UTC offset. A value
 * without an offset is a wall-clock time in an IANA time zone; the offset comes from the runtime's
 * time-zone data (Intl), so the same input always gives the same output.
 */

/** What the parser accepts, for error messages. */
export const DATE_TIME_FORMATS = 'YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] or MM/DD/YYYY HH:MM[:SS] [AM|PM]';

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?$/;

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
