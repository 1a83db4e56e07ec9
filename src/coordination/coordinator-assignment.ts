import type { CareTeam, CareTeamParticipant, Communication, Reference } from 'fhir/r4.js';
import { DateTime } from 'luxon';
import type { PartnerRegistry } from '../config/partners.js';
import { HubError, UnknownPartnerError } from '../errors/hub-error.js';
import { changeResource } from '../fhir/change-resource.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { sharedCareTeam } from '../fhir/shared-care-team.js';
import { localDate } from './business-calendar.js';
import { coordinatorOfTheDay } from './coordinator.rules.js';

/**
 * The named coordinator of the day (operating rule 1, README) lives on the participant's shared CareTeam: a
 * `coordinator-of-the-day` entry, and `coverage-coordinator` entries with their own periods for
 * absences. These functions set, hand over and look up that person.
 */
export interface CoordinatorDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly identifierBase: string;
  readonly timeZone: string;
  readonly now: () => Date;
}

/** A named person coordinating on behalf of a partner agency. */
export interface NamedCoordinator {
  readonly display: string;
  readonly organization: string;
  readonly identifier?: { readonly system: string; readonly value: string };
}

export interface CoordinatorAssignment extends NamedCoordinator {
  /** First and last day (YYYY-MM-DD, hub time zone); open when absent. */
  readonly start?: string;
  readonly end?: string;
  /** Covers an absence: needs a start and an end, and wins over the regular coordinator. */
  readonly coverage?: boolean;
}

const role = (code: string): CareTeamParticipant['role'] => [
  { coding: [{ system: CODE_SYSTEM.careTeamRole, code }] },
];

function hasRole(p: CareTeamParticipant, code: string): boolean {
  return (
    p.role?.some((r) => r.coding?.some((c) => c.system === CODE_SYSTEM.careTeamRole && c.code === code)) ??
    false
  );
}

function entry(a: CoordinatorAssignment): CareTeamParticipant {
  return {
    role: role(a.coverage ? 'coverage-coordinator' : 'coordinator-of-the-day'),
    member: { display: a.display, ...(a.identifier ? { identifier: a.identifier } : {}) },
    onBehalfOf: { reference: `Organization/${a.organization}` },
    ...(a.start || a.end
      ? { period: { ...(a.start ? { start: a.start } : {}), ...(a.end ? { end: a.end } : {}) } }
      : {}),
  };
}

function checkAssignment(deps: CoordinatorDeps, a: CoordinatorAssignment): void {
  if (!deps.partners.get(a.organization)) {
    throw new UnknownPartnerError('organization', a.organization);
  }
  if (a.coverage && !(a.start && a.end)) {
    throw new HubError('COORDINATOR.COVERAGE_PERIOD', 'coverage needs a start and an end', {
      status: 422,
      issues: [
        {
          severity: 'error',
          code: 'required',
          diagnostics: 'coverage needs a start and an end (the absence it covers)',
          expression: ['start', 'end'],
        },
      ],
    });
  }
}

/**
 * Changes the participant's shared CareTeam without losing another writer's change (a
 * read-modify-write, fhir/change-resource.ts), creating the team when there is none; a team
 * another writer created meanwhile gets the change too.
 */
export async function changeCareTeam(
  deps: CoordinatorDeps,
  patientId: string,
  change: (participants: CareTeamParticipant[]) => CareTeamParticipant[],
): Promise<CareTeam> {
  const changed = (team: CareTeam): CareTeam => ({
    ...team,
    participant: change([...(team.participant ?? [])]),
  });
  let team = await sharedCareTeam(deps.fhir, deps.identifierBase, patientId);
  if (!team) {
    const identifier = hubIdentifier(deps.identifierBase, 'care-team', patientId);
    await deps.fhir.read('Patient', patientId); // 404 for an unknown participant
    const { resource, created } = await deps.fhir.createIfNoneExist<CareTeam>(
      changed({
        resourceType: 'CareTeam',
        identifier: [identifier],
        status: 'active',
        name: 'Shared care team',
        subject: { reference: `Patient/${patientId}` },
      }),
      `identifier=${tokenOf(identifier)}`,
    );
    if (created) {
      return resource;
    }
    team = await sharedCareTeam(deps.fhir, deps.identifierBase, patientId);
    if (!team) {
      throw new Error(`the shared care team of Patient/${patientId} was created but cannot be found`);
    }
  }
  return changeResource(deps.fhir, team, changed);
}

/** Adds a coordinator (or an absence cover) to the participant's shared CareTeam. */
export async function assignCoordinator(
  deps: CoordinatorDeps,
  patientId: string,
  a: CoordinatorAssignment,
): Promise<CareTeam> {
  checkAssignment(deps, a);
  return changeCareTeam(deps, patientId, (participants) => [...participants, entry(a)]);
}

/**
 * Hands the regular coordinator role over on `on` (a day): whoever holds it then ends the day
 * before, the new coordinator starts that day, and both agencies get a handover notice.
 */
export async function handOverCoordinator(
  deps: CoordinatorDeps,
  patientId: string,
  to: NamedCoordinator,
  on: string,
  note?: string,
): Promise<CareTeam> {
  checkAssignment(deps, to);
  const dayBefore = DateTime.fromISO(on).minus({ days: 1 }).toISODate()!;
  let from: Reference | undefined;
  const team = await changeCareTeam(deps, patientId, (participants) => [
    ...participants.map((p) => {
      const ended = p.period?.end !== undefined && p.period.end < on;
      if (!hasRole(p, 'coordinator-of-the-day') || ended) {
        return p;
      }
      from = p.member;
      return { ...p, period: { ...p.period, end: dayBefore } };
    }),
    entry({ ...to, start: on }),
  ]);
  const notice: Communication = {
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'coordinator-handover' }] }],
    subject: { reference: `Patient/${patientId}` },
    sent: deps.now().toISOString(),
    recipient: [
      ...new Set([
        `Organization/${to.organization}`,
        ...(team.participant ?? []).flatMap((p) =>
          p.member === from && p.onBehalfOf?.reference ? [p.onBehalfOf.reference] : [],
        ),
      ]),
    ].map((reference) => ({ reference })),
    payload: [
      {
        contentString: `Coordinator of the day from ${on}: ${to.display}${from?.display ? ` (was ${from.display})` : ''}${note ? `. ${note}` : ''}`,
      },
    ],
  };
  await deps.fhir.create(notice);
  return team;
}

/** Today's (or `on`'s) coordinator, or a 404 naming the roster alert. */
export async function coordinatorOn(
  deps: CoordinatorDeps,
  patientId: string,
  on?: string,
): Promise<{ date: string; coordinator: Reference; coverage: boolean }> {
  const date = on ?? localDate(deps.timeZone, deps.now());
  const team = await sharedCareTeam(deps.fhir, deps.identifierBase, patientId);
  // Noon in the hub's zone: the day, whatever the UTC offset.
  const noon = DateTime.fromISO(`${date}T12:00:00`, { zone: deps.timeZone }).toJSDate();
  const coordinator = coordinatorOfTheDay(team, noon, deps.timeZone);
  if (!coordinator) {
    const message = `No coordinator of the day for Patient/${patientId} on ${date}: roster alert no-coordinator-today`;
    throw new HubError('COORDINATOR.NONE', message, {
      status: 404,
      issues: [{ severity: 'warning', code: 'not-found', diagnostics: message }],
    });
  }
  const coverage = (team?.participant ?? []).some(
    (p) => p.member === coordinator && hasRole(p, 'coverage-coordinator'),
  );
  return { date, coordinator, coverage };
}
