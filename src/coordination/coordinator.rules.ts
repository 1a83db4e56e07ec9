import type { CareTeam, Reference } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { localDate } from './business-calendar.js';

/**
 * The named coordinator of the day on a participant's CareTeam at time `at`: a coverage entry
 * (`coverage-coordinator`) whose period covers `at` wins over the regular coordinator, so an
 * absence is covered without editing the regular entry. Undefined when nobody covers `at` (which
 * is itself a roster alert). "Today" is the calendar day in the hub's time zone.
 */
export function coordinatorOfTheDay(
  careTeam: CareTeam | undefined,
  at: Date,
  timeZone: string,
): Reference | undefined {
  return coordinatorOn(careTeam, localDate(timeZone, at));
}

/** {@link coordinatorOfTheDay} on a calendar day (ISO date), for callers asking many teams at once. */
export function coordinatorOn(
  careTeam: Pick<CareTeam, 'participant'> | undefined,
  day: string,
): Reference | undefined {
  const covering = (role: string): Reference | undefined =>
    careTeam?.participant?.find(
      (p) =>
        p.role?.some((r) =>
          r.coding?.some((c) => c.system === CODE_SYSTEM.careTeamRole && c.code === role),
        ) && covers(p.period, day),
    )?.member;
  return covering('coverage-coordinator') ?? covering('coordinator-of-the-day');
}

/** Whether a period covers a calendar day (ISO date); open ends are open. */
function covers(period: { start?: string; end?: string } | undefined, day: string): boolean {
  if (!period) {
    return true;
  }
  const start = period.start?.slice(0, 10);
  const end = period.end?.slice(0, 10);
  return (!start || start <= day) && (!end || day <= end);
}
