import type { Communication, Flag, Identifier, Reference } from 'fhir/r4.js';
import type { CrisisPerson, CrisisThreshold, CrisisUpdate } from '../../adapters/crisis-update/types.js';
import { CODE_SYSTEM } from '../../fhir/profiles.js';
import { partnerRef, resourceWrite, sharedIdentifierSystem, sourceIdentifier } from '../support.js';
import type { MappedRecord, MappingContext, ResourceWrite } from '../types.js';
import { PARTICIPANT_REF } from '../types.js';

/** Hub risk flags raised by thresholds; several thresholds may raise the same flag. */
export const THRESHOLD_FLAGS: Readonly<Partial<Record<CrisisThreshold, string>>> = {
  'self-harm-risk': 'self-harm-risk',
  'mobile-crisis': 'behavioral-escalation',
  'police-ems': 'behavioral-escalation',
  'ed-visit': 'recent-ed-contact',
  'medication-disruption': 'medication-change',
};

/**
 * Maps a crisis stabilization update (operating rules 8 and 9, README) to a `crisis-update` Communication
 * from the partner carrying every required field as readable text, and the hub risk Flags the
 * thresholds raise. The obligations that follow (the next update to the case manager, an
 * authorization review) depend on the coordination configuration, so the event carries what they
 * need and the coordination rules open them.
 */
export function crisisUpdateToMapped(update: CrisisUpdate, ctx: MappingContext): MappedRecord {
  const increase = update.temporarySupportIncrease;
  // Support beyond the authorized scope is itself a threshold (rule 8), listed or not.
  const thresholds = [
    ...new Set<CrisisThreshold>([
      ...(update.thresholdsCrossed ?? []),
      ...(increase?.exceedsAuthorizedScope ? (['temporary-support-increase'] as const) : []),
    ]),
  ];
  const communication = communicationWrite(update, ctx, thresholds);
  const writes: ResourceWrite[] = [communication];
  for (const code of new Set(thresholds.flatMap((t) => THRESHOLD_FLAGS[t] ?? []))) {
    writes.push(flagWrite(update, ctx, code, thresholds));
  }
  return {
    participant: { identifiers: participantIdentifiers(update, ctx) },
    writes,
    events: [
      {
        type: 'crisis-update',
        at: update.eventDateTime,
        communication: communication.fullUrl,
        thresholds,
        supervisor: personRef(update.nextUpdateSupervisor, ctx),
        nextReviewAt: update.nextReviewAt,
        ...(increase
          ? {
              support: {
                summary: `${increase.supportIncrease} (reason: ${increase.reason}; from ${increase.startDate}, review by ${increase.expectedReviewDate})`,
                exceedsAuthorizedScope: increase.exceedsAuthorizedScope,
                reviewBy: endOfDay(increase.expectedReviewDate, update.eventDateTime),
              },
            }
          : {}),
      },
    ],
  };
}

function communicationWrite(
  update: CrisisUpdate,
  ctx: MappingContext,
  thresholds: readonly string[],
): ResourceWrite {
  const communication: Communication = {
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'crisis-update' }] }],
    subject: { reference: PARTICIPANT_REF },
    sent: update.eventDateTime,
    sender: partnerRef(ctx),
    payload: payloadLines(update, thresholds).map((contentString) => ({ contentString })),
  };
  return resourceWrite(communication, sourceIdentifier(ctx, 'crisis-update', update.updateId));
}

/** One readable line per field, labelled as the case manager would read them. */
function payloadLines(u: CrisisUpdate, thresholds: readonly string[]): string[] {
  const lines = [
    `Date and time of event: ${u.eventDateTime}`,
    `Presenting risk: ${u.presentingRisk}`,
    `Immediate response: ${u.immediateResponse}`,
    `Current presentation: ${u.currentPresentation}`,
    `Temporary support changes: ${u.temporarySupportChanges}`,
    `Family contact: ${u.familyContact}`,
    `Next review point: ${u.nextReviewAt}`,
    `Supervisor responsible for the next update: ${describePerson(u.nextUpdateSupervisor)}`,
    `Update written by: ${u.author.name}${u.author.role ? `, ${u.author.role}` : ''}`,
    `Communication thresholds crossed: ${thresholds.length > 0 ? thresholds.join(', ') : 'none'}`,
  ];
  const t = u.temporarySupportIncrease;
  if (t) {
    lines.push(
      `Temporary support increase: ${t.supportIncrease}`,
      `Reason for increase: ${t.reason}`,
      `Start date: ${t.startDate}; expected review date: ${t.expectedReviewDate}`,
      `Outcome indicators: ${t.outcomeIndicators.join('; ')}`,
      `Staffing impact: ${t.staffingImpact}`,
      `Case manager notified: ${t.caseManagerNotifiedAt}`,
      `Step-down evidence: ${t.stepDownEvidence.join('; ')}`,
      `Exceeds authorized scope: ${t.exceedsAuthorizedScope ? 'yes' : 'no'}`,
    );
  }
  return lines;
}

function flagWrite(
  update: CrisisUpdate,
  ctx: MappingContext,
  code: string,
  thresholds: readonly string[],
): ResourceWrite {
  const flag: Flag = {
    resourceType: 'Flag',
    status: 'active',
    code: {
      coding: [{ system: CODE_SYSTEM.riskFlag, code }],
      text: `${update.presentingRisk} (crisis update ${update.updateId}; thresholds: ${thresholds.join(', ')})`,
    },
    subject: { reference: PARTICIPANT_REF },
    period: { start: update.eventDateTime },
    author: partnerRef(ctx),
  };
  return resourceWrite(flag, sourceIdentifier(ctx, 'crisis-update-flag', `${update.updateId}/${code}`));
}

/**
 * The last second of `date` in the UTC offset of `reference` (the provider's local time as the
 * update states it), so a date-only review is not due at the previous day's UTC midnight.
 */
function endOfDay(date: string, reference: string): string {
  const offset = /(Z|[+-]\d{2}:\d{2})$/.exec(reference)?.[1] ?? 'Z';
  return `${date}T23:59:59${offset}`;
}

/** The named person as a display reference, with the partner's staff id when given. */
function personRef(p: CrisisPerson, ctx: MappingContext): Reference {
  return {
    ...(p.staffId ? { identifier: sourceIdentifier(ctx, 'staff', p.staffId) } : {}),
    display: describePerson(p),
  };
}

function describePerson(p: CrisisPerson): string {
  return `${p.name}, ${p.role}${p.contact ? ` (${p.contact})` : ''}`;
}

function participantIdentifiers(u: CrisisUpdate, ctx: MappingContext): Identifier[] {
  return [
    ...(u.participant.memberId ? [sourceIdentifier(ctx, 'member', u.participant.memberId)] : []),
    ...(u.participant.medicaidId
      ? [{ system: sharedIdentifierSystem(ctx, 'medicaid'), value: u.participant.medicaidId }]
      : []),
  ];
}
