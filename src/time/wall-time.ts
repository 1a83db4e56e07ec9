/**
 * Wall-clock times in an IANA time zone, turned into instants with a UTC offset. Agencies send
 * local times without offsets (EVV exports, HL7 v2 timestamps); the offset comes from the
 * runtime's time-zone data (Intl), so the same input always gives the same output. One rule for
 * the whole hub: in the hour skipped when clocks go forward a time is read with the offset before
 * the change; in the repeated hour when they go back, the earlier of the two moments is taken.
 */

/** A calendar date and time of day, without zone. */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
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
export function inZone(wall: WallTime, timeZone: string): string {
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

export function formatWall(w: WallTime): string {
  const p = (n: number, len = 2): string => String(n).padStart(len, '0');
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
