import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  calendarOf,
  describeWindow,
  dueAt,
  isOpen,
  loadCalendars,
  localDate,
  nextOpening,
  type AgencyCalendar,
} from '../../../src/coordination/business-calendar.js';
import { ConfigError } from '../../../src/errors/hub-error.js';

const root = path.resolve(import.meta.dirname, '../../..');
const PARTNERS = ['sunrise-hcbs', 'northside-bh', 'harbor-housing'];

/** Mon-Fri 09:00-12:00 and 13:00-17:00 in New York; Thanksgiving 2026 closed. */
const housing: AgencyCalendar = {
  timeZone: 'America/New_York',
  officeHours: Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['09:00-12:00', '13:00-17:00']]),
  ),
  holidays: ['2026-11-26'],
  onCall: { display: 'Housing emergency line' },
};
const at = (iso: string): Date => new Date(iso);
const iso = (d: Date): string => d.toISOString();

describe('business calendars', () => {
  it('knows when an agency is open: ranges, lunch gaps, weekends and holidays', () => {
    expect(isOpen(housing, at('2026-11-23T09:00:00-05:00'))).toBe(true); // Monday opening
    expect(isOpen(housing, at('2026-11-23T08:59:00-05:00'))).toBe(false);
    expect(isOpen(housing, at('2026-11-23T12:30:00-05:00'))).toBe(false); // lunch
    expect(isOpen(housing, at('2026-11-23T17:00:00-05:00'))).toBe(false); // closing time itself is closed
    expect(isOpen(housing, at('2026-11-22T10:00:00-05:00'))).toBe(false); // Sunday
    expect(isOpen(housing, at('2026-11-26T10:00:00-05:00'))).toBe(false); // Thanksgiving
  });

  it('finds the next opening', () => {
    expect(iso(nextOpening(housing, at('2026-11-23T12:15:00-05:00')))).toBe('2026-11-23T18:00:00.000Z');
    expect(iso(nextOpening(housing, at('2026-11-25T17:30:00-05:00')))).toBe('2026-11-27T14:00:00.000Z'); // skips Thanksgiving
    expect(iso(nextOpening(housing, at('2026-11-23T10:00:00-05:00')))).toBe('2026-11-23T15:00:00.000Z'); // open: now
  });

  it('counts business days to the close of business, Friday evening to Monday', () => {
    expect(iso(dueAt(housing, at('2026-11-23T10:00:00-05:00'), { businessDays: 1 }))).toBe(
      '2026-11-24T22:00:00.000Z',
    );
    expect(iso(dueAt(housing, at('2026-11-20T18:30:00-05:00'), { businessDays: 1 }))).toBe(
      '2026-11-23T22:00:00.000Z',
    );
    expect(iso(dueAt(housing, at('2026-11-25T10:00:00-05:00'), { businessDays: 1 }))).toBe(
      '2026-11-27T22:00:00.000Z',
    );
  });

  it('counts business hours across the lunch gap, the weekend and a holiday', () => {
    // Wednesday 16:00 + 3 business hours: 1 h on Wednesday, Thanksgiving closed, 2 h on Friday.
    expect(iso(dueAt(housing, at('2026-11-25T16:00:00-05:00'), { businessHours: 3 }))).toBe(
      '2026-11-27T16:00:00.000Z',
    );
    // Monday 11:30 + 1 business hour: 30 min before lunch, 30 min after.
    expect(iso(dueAt(housing, at('2026-11-23T11:30:00-05:00'), { businessHours: 1 }))).toBe(
      '2026-11-23T18:30:00.000Z',
    );
    // Exactly to closing time stays at closing time.
    expect(iso(dueAt(housing, at('2026-11-23T16:00:00-05:00'), { businessHours: 1 }))).toBe(
      '2026-11-23T22:00:00.000Z',
    );
  });

  it('keeps wall-clock office hours across daylight-saving changes', () => {
    // Friday 2026-10-30 16:00 EDT + 2 business hours: 1 h Friday, 1 h Monday 2026-11-02 (now EST).
    expect(iso(dueAt(housing, at('2026-10-30T16:00:00-04:00'), { businessHours: 2 }))).toBe(
      '2026-11-02T15:00:00.000Z',
    );
    // Friday 2027-03-12 (EST) + 1 business day: Monday 2027-03-15 17:00 EDT.
    expect(iso(dueAt(housing, at('2027-03-12T10:00:00-05:00'), { businessDays: 1 }))).toBe(
      '2027-03-15T21:00:00.000Z',
    );
  });

  it('counts plain hours as elapsed time, whatever the calendar', () => {
    expect(iso(dueAt(housing, at('2026-11-21T23:00:00-05:00'), { hours: 24 }))).toBe(
      '2026-11-23T04:00:00.000Z',
    );
    expect(describeWindow({ hours: 24 })).toBe('24 hours');
    expect(describeWindow({ businessDays: 1 })).toBe('1 business day');
  });

  it('reads the day in the hub time zone', () => {
    expect(localDate('America/New_York', at('2026-11-26T03:00:00Z'))).toBe('2026-11-25');
    expect(localDate('UTC', at('2026-11-26T03:00:00Z'))).toBe('2026-11-26');
  });

  it('loads the shipped calendars, with the default for an agency without its own', async () => {
    const config = await loadCalendars(path.join(root, 'config/coordination/calendars.yaml'), PARTNERS);
    expect(calendarOf(config, 'harbor-housing').officeHours.mon).toEqual(['09:00-12:00', '13:00-17:00']);
    expect(calendarOf(config, 'unknown')).toBe(config.default);
  });

  it('refuses bad calendars, naming the file and pointer of every problem', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'calendars-')), 'calendars.yaml');
    writeFileSync(
      file,
      [
        'timeZone: Mars/Olympus',
        'default:',
        '  timeZone: America/New_York',
        "  officeHours: { mon: ['17:00-09:00'], tue: ['09:00-13:00', '12:00-17:00'] }",
        "  holidays: ['2026-02-30']",
        '  onCall: { display: On call, organization: nobody }',
        'agencies:',
        '  stranger:',
        '    timeZone: UTC',
        '    officeHours: {}',
        '    holidays: []',
        '    onCall: { display: x }',
      ].join('\n'),
    );
    const err = (await loadCalendars(file, PARTNERS).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual([
      'calendars.yaml: /timeZone "Mars/Olympus" is not an IANA time zone',
      'calendars.yaml: /default/officeHours/mon/0 "17:00-09:00" ends before it starts',
      'calendars.yaml: /default/officeHours/tue/1 "12:00-17:00" overlaps or precedes the range before it',
      'calendars.yaml: /default/holidays/0 "2026-02-30" is not a date',
      'calendars.yaml: /default/onCall/organization "nobody" is not a partner',
      'calendars.yaml: /agencies/stranger is not a partner',
      'calendars.yaml: /agencies/stranger/officeHours has no open hours: business-time deadlines would never fall due',
    ]);
  });
});
