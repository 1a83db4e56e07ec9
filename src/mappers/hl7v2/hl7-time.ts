import type { Hl7DateTime } from '../../adapters/hl7v2/types.js';
import type { MappingContext } from '../types.js';

/** The partner setting that names the zone of HL7 times sent without an offset. */
export const TIMEZONE_OVERRIDE = 'hl7.timezone';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The IANA zone of the partner's HL7 times: `fieldOverrides['hl7.timezone']`, default `UTC`.
 * An unknown zone is a configuration error, thrown naming the setting.
 */
export function partnerTimeZone(ctx: MappingContext): string {
  const configured = ctx.partner.fieldOverrides?.[TIMEZONE_OVERRIDE];
  const zone = typeof configured === 'string' && configured !== '' ? configured : 'UTC';
  try {
    formatterFor(zone);
  } catch {
    throw new Error(
      `partner ${ctx.partner.id}: fieldOverrides['${TIMEZONE_OVERRIDE}'] "${zone}" is not an IANA time zone`,
    );
  }
  return zone;
}

/**
 * An {@link Hl7DateTime} as a FHIR dateTime: values with an offset, and dates, are kept; a local
 * date-time gets the offset `timeZone` had at that wall time (deterministic: no clock involved).
 * A wall time that does not exist (skipped by a DST change) takes the offset in force after it.
 */
export function toFhirDateTime(value: Hl7DateTime, timeZone: string): string {
  const m = LOCAL.exec(value);
  if (!m) {
    return value;
  }
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const wall = Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s);
  let offset = offsetMinutes(timeZone, wall);
  offset = offsetMinutes(timeZone, wall - offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${value}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The FHIR date of an HL7 date/time (its calendar date as sent, no zone shift). */
export function toFhirDate(value: Hl7DateTime): string {
  return value.slice(0, 10);
}

/** Minutes `timeZone` is ahead of UTC at the instant `epochMs`. */
function offsetMinutes(timeZone: string, epochMs: number): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(epochMs));
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60_000);
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
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

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
