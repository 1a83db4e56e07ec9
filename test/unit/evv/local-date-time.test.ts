import { describe, expect, it } from '@jest/globals';
import { isTimeZone, toOffsetDateTime } from '../../../src/adapters/evv/local-date-time.js';

describe('toOffsetDateTime', () => {
  it.each([
    ['2025-01-15T09:00', 'America/New_York', '2025-01-15T09:00:00-05:00'],
    ['2025-07-15 09:00:30', 'America/New_York', '2025-07-15T09:00:30-04:00'],
    ['07/15/2025 9:05 PM', 'America/Chicago', '2025-07-15T21:05:00-05:00'],
    ['1/2/2025 12:00 AM', 'America/Denver', '2025-01-02T00:00:00-07:00'],
    ['1/2/2025 12:30 pm', 'America/Denver', '2025-01-02T12:30:00-07:00'],
    ['2025-01-15T09:00', 'Asia/Kolkata', '2025-01-15T09:00:00+05:30'],
    // Explicit offsets win over the zone.
    ['2025-01-15T09:00:00Z', 'America/New_York', '2025-01-15T09:00:00Z'],
    ['2025-01-15T09:00:00.250+0100', 'America/New_York', '2025-01-15T09:00:00+01:00'],
    // Spring forward: 02:30 does not exist in New York on 2025-03-09; read with the offset before.
    ['2025-03-09T02:30', 'America/New_York', '2025-03-09T02:30:00-05:00'],
    ['2025-03-09T03:00', 'America/New_York', '2025-03-09T03:00:00-04:00'],
    // Fall back: 01:30 happens twice on 2025-11-02; the first (daylight time) is taken.
    ['2025-11-02T01:30', 'America/New_York', '2025-11-02T01:30:00-04:00'],
    ['2025-11-02T02:00', 'America/New_York', '2025-11-02T02:00:00-05:00'],
  ])('%s in %s is %s', (value, zone, expected) => {
    expect(toOffsetDateTime(value, zone)).toBe(expected);
  });

  it.each([
    '2025-02-29T09:00',
    '2025-01-15T24:00',
    '13/01/2025 10:00',
    '1/2/2025 13:00 PM',
    '2025-01-15',
    'soon',
    '2025-01-15T09:00+15:00',
  ])('rejects %s', (value) => {
    expect(toOffsetDateTime(value, 'America/New_York')).toBeUndefined();
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('America/Phoenix')).toBe(true);
    expect(isTimeZone('Eastern')).toBe(false);
  });
});
