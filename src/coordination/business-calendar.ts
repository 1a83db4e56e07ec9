import { DateTime, IANAZone } from 'luxon';
import { loadYamlConfig } from '../config/yaml-file.js';

/**
 * Agency calendars (operating rule 3, README, issue 5 item 8): office hours, holidays and the after-hours
 * on-call contact. Deadlines stated in business time are computed on the owning agency's calendar;
 * luxon does the time-zone and daylight-saving arithmetic.
 */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface OnCallContact {
  display: string;
  telecom?: string;
  /** The partner answering after hours, when not the agency itself. */
  organization?: string;
}

export interface AgencyCalendar {
  timeZone: string;
  /** Per weekday, `HH:MM-HH:MM` ranges in local time, sorted and not overlapping; absent = closed. */
  officeHours: Partial<Record<Weekday, string[]>>;
  /** Local dates (`YYYY-MM-DD`) the agency is closed. */
  holidays: string[];
  onCall: OnCallContact;
}

export interface CalendarsConfig {
  /** The hub's own day boundary: "today" for the roster and the coordinator of the day. */
  timeZone: string;
  /** The calendar of an agency without its own entry. */
  default: AgencyCalendar;
  agencies: Record<string, AgencyCalendar>;
}

/** A deadline window: wall-clock hours, or business hours or business days on a calendar. */
export type DeadlineWindow = { hours: number } | { businessHours: number } | { businessDays: number };

const positive = { type: 'number', exclusiveMinimum: 0, maximum: 8760 } as const;

/** JSON schema of a {@link DeadlineWindow}, for the coordination files that state windows. */
export const DEADLINE_WINDOW_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    hours: positive,
    businessHours: positive,
    businessDays: { type: 'integer', minimum: 1, maximum: 365 },
  },
} as const;

const RANGE = '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$';
const calendarSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['timeZone', 'officeHours', 'holidays', 'onCall'],
  properties: {
    timeZone: { type: 'string' },
    officeHours: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        WEEKDAYS.map((d) => [d, { type: 'array', items: { type: 'string', pattern: RANGE } }]),
      ),
    },
    holidays: { type: 'array', items: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } },
    onCall: {
      type: 'object',
      additionalProperties: false,
      required: ['display'],
      properties: {
        display: { type: 'string', minLength: 1 },
        telecom: { type: 'string' },
        organization: { type: 'string' },
      },
    },
  },
};
/** The JSON Schema of config/coordination/calendars.yaml (published in schemas/). */
export const CALENDARS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['timeZone', 'default', 'agencies'],
  properties: {
    timeZone: { type: 'string' },
    default: calendarSchema,
    agencies: { type: 'object', additionalProperties: calendarSchema },
  },
};

/** Minutes since local midnight of `HH:MM`. */
function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

function ranges(cal: AgencyCalendar, day: DateTime): [number, number][] {
  if (cal.holidays.includes(day.toISODate()!)) {
    return [];
  }
  const weekday = WEEKDAYS[day.weekday - 1]!;
  return (cal.officeHours[weekday] ?? []).map((r) => {
    const [from, to] = r.split('-');
    return [minutes(from!), minutes(to!)];
  });
}

/** The local wall time `m` minutes after midnight of `day` (calendar math, so DST days come out right). */
function wallTime(day: DateTime, m: number): DateTime {
  return m >= 24 * 60
    ? day.plus({ days: 1 }).startOf('day')
    : day.set({ hour: Math.floor(m / 60), minute: m % 60 });
}

function calendarProblems(cal: AgencyCalendar, where: string, partnerIds: readonly string[]): string[] {
  const problems: string[] = [];
  if (!IANAZone.isValidZone(cal.timeZone)) {
    problems.push(`${where}/timeZone "${cal.timeZone}" is not an IANA time zone`);
  }
  let open = 0;
  for (const day of WEEKDAYS) {
    const list = cal.officeHours[day] ?? [];
    let previousEnd = -1;
    list.forEach((r, i) => {
      const [from, to] = r.split('-').map(minutes) as [number, number];
      if (from >= to) {
        problems.push(`${where}/officeHours/${day}/${i} "${r}" ends before it starts`);
      } else if (from < previousEnd) {
        problems.push(`${where}/officeHours/${day}/${i} "${r}" overlaps or precedes the range before it`);
      }
      previousEnd = to;
      open += to - from;
    });
  }
  if (open === 0) {
    problems.push(`${where}/officeHours has no open hours: business-time deadlines would never fall due`);
  }
  cal.holidays.forEach((h, i) => {
    if (!DateTime.fromISO(h).isValid) {
      problems.push(`${where}/holidays/${i} "${h}" is not a date`);
    }
  });
  if (cal.onCall.organization && !partnerIds.includes(cal.onCall.organization)) {
    problems.push(`${where}/onCall/organization "${cal.onCall.organization}" is not a partner`);
  }
  return problems;
}

/** Reads and validates the calendars file; agencies must be partners. */
export function loadCalendars(file: string, partnerIds: readonly string[]): Promise<CalendarsConfig> {
  return loadYamlConfig<CalendarsConfig>(file, CALENDARS_SCHEMA, (data, name) => [
    ...(IANAZone.isValidZone(data.timeZone)
      ? []
      : [`${name}: /timeZone "${data.timeZone}" is not an IANA time zone`]),
    ...calendarProblems(data.default, `${name}: /default`, partnerIds),
    ...Object.entries(data.agencies).flatMap(([id, cal]) => [
      ...(partnerIds.includes(id) ? [] : [`${name}: /agencies/${id} is not a partner`]),
      ...calendarProblems(cal, `${name}: /agencies/${id}`, partnerIds),
    ]),
  ]);
}

/** The agency's own calendar, else the default one. */
export function calendarOf(config: CalendarsConfig, agencyId: string | undefined): AgencyCalendar {
  return (agencyId ? config.agencies[agencyId] : undefined) ?? config.default;
}

/** The calendar day (`YYYY-MM-DD`) of `at` in `timeZone`. */
export function localDate(timeZone: string, at: Date): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).toISODate()!;
}

/** A bound on the day-by-day searches: a calendar with open hours finds one within weeks. */
const MAX_DAYS = 3 * 366;

/** Open intervals from the day of `from` onwards, as [start, end] instants, in order. */
function* openIntervals(cal: AgencyCalendar, from: Date): Generator<[DateTime, DateTime]> {
  let day = DateTime.fromJSDate(from, { zone: cal.timeZone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 })) {
    for (const [start, end] of ranges(cal, day)) {
      yield [wallTime(day, start), wallTime(day, end)];
    }
  }
  throw new Error(
    `calendar in ${cal.timeZone} has no open hours within ${MAX_DAYS} days of ${from.toISOString()}`,
  );
}

export function isOpen(cal: AgencyCalendar, at: Date): boolean {
  const t = at.getTime();
  const day = DateTime.fromJSDate(at, { zone: cal.timeZone }).startOf('day');
  return ranges(cal, day).some(
    ([s, e]) => wallTime(day, s).toMillis() <= t && t < wallTime(day, e).toMillis(),
  );
}

/** `at` itself when open, else the start of the next open interval. */
export function nextOpening(cal: AgencyCalendar, at: Date): Date {
  for (const [start, end] of openIntervals(cal, at)) {
    if (end.toMillis() > at.getTime()) {
      return new Date(Math.max(start.toMillis(), at.getTime()));
    }
  }
  throw new Error('unreachable');
}

/**
 * When a window starting at `start` ends:
 * - `hours`: elapsed time, whatever the calendar;
 * - `businessHours`: only time inside office hours counts (a start outside them counts from the next
 *   opening; an end exactly at a closing time stays there);
 * - `businessDays: n`: close of business on the n-th business day strictly after the local date of
 *   `start` (Monday 10:00 + 1 business day = Tuesday's close; Friday evening + 1 = Monday's close).
 */
export function dueAt(cal: AgencyCalendar, start: Date, window: DeadlineWindow): Date {
  if ('hours' in window) {
    return new Date(start.getTime() + window.hours * 3600_000);
  }
  if ('businessHours' in window) {
    let left = window.businessHours * 3600_000;
    for (const [s, e] of openIntervals(cal, start)) {
      const from = Math.max(s.toMillis(), start.getTime());
      if (e.toMillis() <= from) {
        continue;
      }
      if (from + left <= e.toMillis()) {
        return new Date(from + left);
      }
      left -= e.toMillis() - from;
    }
  }
  const n = (window as { businessDays: number }).businessDays;
  let day = DateTime.fromJSDate(start, { zone: cal.timeZone }).startOf('day');
  for (let i = 0, found = 0; i < MAX_DAYS; i++) {
    day = day.plus({ days: 1 });
    const open = ranges(cal, day);
    if (open.length > 0 && ++found === n) {
      return wallTime(day, open.at(-1)![1]).toJSDate();
    }
  }
  throw new Error(`calendar in ${cal.timeZone} has no ${n} business days within ${MAX_DAYS} days`);
}

/** A window in words: "24 hours", "1 business day", "4 business hours". */
export function describeWindow(window: DeadlineWindow): string {
  const [unit, n] = Object.entries(window)[0] as [string, number];
  const words = { hours: 'hour', businessHours: 'business hour', businessDays: 'business day' }[unit];
  return `${n} ${words}${n === 1 ? '' : 's'}`;
}
