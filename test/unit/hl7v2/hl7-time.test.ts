import { describe, expect, it } from '@jest/globals';
import { parseHl7DateTime } from '../../../src/adapters/hl7v2/hl7-datetime.js';
import { partnerTimeZone, toFhirDateTime } from '../../../src/mappers/hl7v2/hl7-time.js';
import type { MappingContext } from '../../../src/mappers/types.js';

describe('parseHl7DateTime', () => {
  it.each([
    ['2025', '2025'],
    ['202503', '2025-03'],
    ['20250310', '2025-03-10'],
    ['2025031014', '2025-03-10T14:00:00'],
    ['202503101430', '2025-03-10T14:30:00'],
    ['20250310143005', '2025-03-10T14:30:05'],
    ['20250310143005.1234', '2025-03-10T14:30:05.1234'],
    // milliseconds straight after the seconds, as some engines write them
    ['20110613122406637', '2011-06-13T12:24:06.637'],
    ['20250310143005-0500', '2025-03-10T14:30:05-05:00'],
    ['202503101430+0000', '2025-03-10T14:30:00+00:00'],
    ['20250310-0500', '2025-03-10'],
    ['20240229', '2024-02-29'],
  ])('%s -> %s', (hl7, iso) => {
    expect(parseHl7DateTime(hl7)).toEqual({ value: iso });
  });

  it.each([
    '20250229',
    '20251301',
    '20250310240000',
    '20250310146000',
    '2025031014.5',
    '2025-03-10',
    '2025031',
    'x',
  ])('rejects %s without repeating it', (hl7) => {
    const result = parseHl7DateTime(hl7);
    expect(result).toHaveProperty('error');
    expect(JSON.stringify(result)).not.toContain(hl7);
  });
});

describe('toFhirDateTime', () => {
  it('keeps values with an offset, and dates', () => {
    expect(toFhirDateTime('2025-03-10T14:30:00-05:00', 'America/Chicago')).toBe('2025-03-10T14:30:00-05:00');
    expect(toFhirDateTime('2025-03-10', 'America/Chicago')).toBe('2025-03-10');
  });

  it('places a local time in the zone, following daylight saving time', () => {
    expect(toFhirDateTime('2025-01-15T08:00:00', 'UTC')).toBe('2025-01-15T08:00:00+00:00');
    expect(toFhirDateTime('2025-01-15T08:00:00', 'America/Chicago')).toBe('2025-01-15T08:00:00-06:00');
    expect(toFhirDateTime('2025-07-15T08:00:00.5', 'America/Chicago')).toBe('2025-07-15T08:00:00.5-05:00');
    expect(toFhirDateTime('2025-07-15T08:00:00', 'Asia/Kolkata')).toBe('2025-07-15T08:00:00+05:30');
    // 02:30 does not exist on 2025-03-09 in Chicago: the hub reads it with the offset before the change.
    expect(toFhirDateTime('2025-03-09T02:30:00', 'America/Chicago')).toBe('2025-03-09T02:30:00-06:00');
  });

  it('reads the zone from the partner, defaulting to UTC, and names a bad setting', () => {
    const ctx = (fieldOverrides?: Record<string, string>): MappingContext => ({
      identifierBase: 'https://hub.example.org',
      partner: { id: 'p', name: 'P', kind: 'behavioral-health', inbound: { formats: [] }, fieldOverrides },
    });
    expect(partnerTimeZone(ctx())).toBe('UTC');
    expect(partnerTimeZone(ctx({ 'hl7.timezone': 'America/Denver' }))).toBe('America/Denver');
    expect(() => partnerTimeZone(ctx({ 'hl7.timezone': 'Mars/Olympus' }))).toThrow(
      'partner p: fieldOverrides[\'hl7.timezone\'] "Mars/Olympus" is not an IANA time zone',
    );
  });
});
