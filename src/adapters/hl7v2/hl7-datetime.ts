import type { Hl7DateTime } from './types.js';

/** A parsed HL7 date/time, or why it is not one. */
export type Hl7DateTimeResult = { readonly value: Hl7DateTime } | { readonly error: string };

// YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]; the fraction's dot is optional, as engines
// that write milliseconds straight after the seconds (`20110613122406637`) do.
const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.?\d{1,4})?([+-]\d{4})?$/;

/**
 * Parses an HL7 TS/DTM value (first component) into ISO 8601 at the precision sent; see
 * {@link Hl7DateTime}. An offset on a value without a time is dropped (a date has no zone).
 * The error never repeats the value (it may be a birth date).
 * @see https://hl7-definition.caristix.com/v2/HL7v2.5.1/DataTypes/DTM
 */
export function parseHl7DateTime(text: string): Hl7DateTimeResult {
  const m = TS.exec(text.trim());
  if (!m) {
    return { error: 'not an HL7 date/time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])' };
  }
  const [, year, month, day, hour, minute, second, sentFraction, offset] = m;
  const fraction = sentFraction?.replace(/^(?=\d)/, '.');
  if (fraction !== undefined && second === undefined) {
    return { error: 'fractional seconds without seconds' };
  }
  if (month !== undefined && !between(month, 1, 12)) {
    return { error: 'month out of range' };
  }
  if (day !== undefined && !between(day, 1, daysInMonth(Number(year), Number(month)))) {
    return { error: 'day out of range for the month' };
  }
  if (hour !== undefined && !between(hour, 0, 23)) {
    return { error: 'hour out of range' };
  }
  if (
    (minute !== undefined && !between(minute, 0, 59)) ||
    (second !== undefined && !between(second, 0, 59))
  ) {
    return { error: 'minute or second out of range' };
  }
  let value = `${year}${month ? `-${month}` : ''}${day ? `-${day}` : ''}`;
  if (hour === undefined) {
    return { value };
  }
  value += `T${hour}:${minute ?? '00'}:${second ?? '00'}${fraction ?? ''}`;
  if (offset !== undefined) {
    const hh = Number(offset.slice(1, 3));
    const mm = Number(offset.slice(3, 5));
    if (mm > 59 || hh * 60 + mm > 14 * 60) {
      return { error: 'time-zone offset out of range' };
    }
    value += `${offset.slice(0, 3)}:${offset.slice(3)}`;
  }
  return { value };
}

function between(digits: string, min: number, max: number): boolean {
  const n = Number(digits);
  return n >= min && n <= max;
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; Date.UTC is pure (no clock).
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
