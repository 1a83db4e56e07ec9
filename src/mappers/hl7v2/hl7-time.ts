import type { Hl7DateTime } from '../../adapters/hl7v2/types.js';
import { inZone, isTimeZone } from '../../time/wall-time.js';
import type { MappingContext } from '../types.js';

/** The partner setting that names the zone of HL7 times sent without an offset. */
export const TIMEZONE_OVERRIDE = 'hl7.timezone';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

/**
 * The IANA zone of the partner's HL7 times: `fieldOverrides['hl7.timezone']`, default `UTC`.
 * An unknown zone is a configuration error, thrown naming the setting.
 */
export function partnerTimeZone(ctx: MappingContext): string {
  const configured = ctx.partner.fieldOverrides?.[TIMEZONE_OVERRIDE];
  const zone = typeof configured === 'string' && configured !== '' ? configured : 'UTC';
  if (!isTimeZone(zone)) {
    throw new Error(
      `partner ${ctx.partner.id}: fieldOverrides['${TIMEZONE_OVERRIDE}'] "${zone}" is not an IANA time zone`,
    );
  }
  return zone;
}

/**
 * An {@link Hl7DateTime} as a FHIR dateTime: values with an offset, and dates, are kept; a local
 * date-time gets the offset `timeZone` had at that wall time (deterministic: no clock involved;
 * the hub-wide rule for clock changes is in `time/wall-time.ts`).
 */
export function toFhirDateTime(value: Hl7DateTime, timeZone: string): string {
  const m = LOCAL.exec(value);
  if (!m) {
    return value;
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const withOffset = inZone({ year, month, day, hour, minute, second }, timeZone);
  // Keep the value's own fraction of a second, as sent.
  return `${value}${withOffset.slice(19)}`;
}

/** The FHIR date of an HL7 date/time (its calendar date as sent, no zone shift). */
export function toFhirDate(value: Hl7DateTime): string {
  return value.slice(0, 10);
}
