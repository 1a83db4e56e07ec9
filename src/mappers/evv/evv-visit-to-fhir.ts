import { hubTask } from '../../fhir/hub-task.js';
import type { Encounter, Flag, Identifier } from 'fhir/r4.js';
import type { EvvVisit } from '../../adapters/evv/types.js';
import { CODE_SYSTEM } from '../../fhir/profiles.js';
import { HCPCS_SYSTEM } from '../service-plan/service-plan-to-careplan.js';
import { partnerRef, resourceWrite, sharedIdentifierSystem, sourceIdentifier } from '../support.js';
import type { MappedRecord, MappingContext } from '../types.js';
import { PARTICIPANT_REF } from '../types.js';

/** The agency follows up a missed visit within a day of the end of its scheduled window. */
export const MISSED_VISIT_FOLLOW_UP_HOURS = 24;

const HOME_HEALTH = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  code: 'HH',
  display: 'home health',
};

/**
 * Maps one EVV visit. A missed visit becomes a hub `missed-visits` Flag, a follow-up Task owned by
 * the partner and due 24 hours after the scheduled end, and a `missed-visit` event. A completed
 * (or checked-in) visit becomes a home-health Encounter over the check-in/check-out times, so
 * delivered visits are evidenced; a visit the participant cancelled becomes a cancelled Encounter
 * over the scheduled times, with no Flag.
 */
export function evvVisitToMapped(visit: EvvVisit, ctx: MappingContext): MappedRecord {
  const participant = { identifiers: participantIdentifiers(visit, ctx) };
  if (visit.outcome === 'missed') {
    return { participant, ...missedVisit(visit, ctx) };
  }
  // A visit's state moves on with its times (checked in, then out): a resent check-in never
  // reopens a visit already checked out. A cancellation carries no time and applies as sent.
  const sourceTime = visit.outcome === 'cancelled' ? undefined : (visit.actualEnd ?? visit.actualStart);
  const write = encounterWrite(visit, ctx);
  return { participant, writes: [sourceTime ? { ...write, sourceTime } : write], events: [] };
}

function missedVisit(visit: EvvVisit, ctx: MappingContext): Pick<MappedRecord, 'writes' | 'events'> {
  const why =
    visit.missedBecause === 'no-check-in'
      ? `scheduled, no check-in (status ${visit.visitStatus})`
      : `status ${visit.visitStatus}`;
  const summary = `Missed visit ${visit.visitId}: ${visit.serviceCode} scheduled ${visit.scheduledStart} to ${visit.scheduledEnd}, ${why}${
    visit.exceptionCode ? `, exception ${visit.exceptionCode}` : ''
  }`;
  const flag: Flag = {
    resourceType: 'Flag',
    status: 'active',
    code: { coding: [{ system: CODE_SYSTEM.riskFlag, code: 'missed-visits' }], text: summary },
    subject: { reference: PARTICIPANT_REF },
    period: { start: visit.scheduledStart },
    author: partnerRef(ctx),
  };
  const flagWrite = resourceWrite(flag, sourceIdentifier(ctx, 'evv-missed-visit', visit.visitId));

  const task = hubTask({
    code: 'missed-visit-follow-up',
    description: `Follow up: ${summary}`,
    focus: flagWrite.fullUrl,
    for: PARTICIPANT_REF,
    requester: partnerRef(ctx),
    owner: partnerRef(ctx),
    due: addHours(visit.scheduledEnd, MISSED_VISIT_FOLLOW_UP_HOURS),
  });
  const taskWrite = resourceWrite(task, sourceIdentifier(ctx, 'evv-missed-visit-follow-up', visit.visitId));

  return {
    writes: [flagWrite, taskWrite],
    events: [
      { type: 'missed-visit', at: visit.scheduledStart, flag: flagWrite.fullUrl, task: taskWrite.fullUrl },
    ],
  };
}

function encounterWrite(visit: EvvVisit, ctx: MappingContext): ReturnType<typeof resourceWrite> {
  const status =
    visit.outcome === 'completed' ? 'finished' : visit.outcome === 'cancelled' ? 'cancelled' : 'in-progress';
  // A cancelled visit has no actual times: its scheduled window says which visit it was.
  const period =
    visit.outcome === 'cancelled'
      ? { start: visit.scheduledStart, end: visit.scheduledEnd }
      : { start: visit.actualStart, ...(visit.actualEnd ? { end: visit.actualEnd } : {}) };
  const encounter: Encounter = {
    resourceType: 'Encounter',
    status,
    class: HOME_HEALTH,
    type: [
      { coding: [{ system: HCPCS_SYSTEM, code: visit.serviceCode }], text: `EVV visit ${visit.visitId}` },
    ],
    subject: { reference: PARTICIPANT_REF },
    ...(visit.caregiverId
      ? {
          participant: [
            {
              individual: {
                type: 'Practitioner',
                identifier: sourceIdentifier(ctx, 'caregiver', visit.caregiverId),
                display: `Caregiver ${visit.caregiverId}`,
              },
            },
          ],
        }
      : {}),
    period,
    serviceProvider: partnerRef(ctx),
  };
  return resourceWrite(encounter, sourceIdentifier(ctx, 'evv-visit', visit.visitId));
}

function participantIdentifiers(visit: EvvVisit, ctx: MappingContext): Identifier[] {
  return [
    ...(visit.memberId ? [sourceIdentifier(ctx, 'member', visit.memberId)] : []),
    ...(visit.medicaidId
      ? [{ system: sharedIdentifierSystem(ctx, 'medicaid'), value: visit.medicaidId }]
      : []),
  ];
}

/** `dateTime` + hours, written with the same UTC offset as the input (the instant is exact). */
function addHours(dateTime: string, hours: number): string {
  const offset = /(Z|[+-]\d{2}:\d{2})$/.exec(dateTime)?.[1] ?? 'Z';
  const offsetMinutes =
    offset === 'Z'
      ? 0
      : (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  const shifted = new Date(Date.parse(dateTime) + hours * 3600_000 + offsetMinutes * 60_000);
  return `${shifted.toISOString().slice(0, 19)}${offset}`;
}
