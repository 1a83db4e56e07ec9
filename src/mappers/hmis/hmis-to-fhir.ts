import { hubTask } from '../../fhir/hub-task.js';
import type { Flag, HumanName, Identifier, Observation, Patient } from 'fhir/r4.js';
import { DateTime, IANAZone } from 'luxon';
import type { HmisClientRecord, HmisLivingSituation } from '../../adapters/hmis/types.js';
import { ConfigError } from '../../errors/hub-error.js';
import { CODE_SYSTEM, HUB_CANONICAL_BASE } from '../../fhir/profiles.js';
import { partnerRef, resourceWrite, sharedIdentifierSystem, sourceIdentifier } from '../support.js';
import type { CareTeamMember, HubEvent, MappedRecord, MappingContext, ResourceWrite } from '../types.js';
import { PARTICIPANT_REF } from '../types.js';

/**
 * System of HUD's living situation codes (HMIS CSV list 3.12.1, shared by prior living situation,
 * exit destination and current living situation). HUD publishes no FHIR CodeSystem for them, so
 * the hub names one under its own canonical base; codes and displays are HUD's, unchanged.
 */
export const HUD_LIVING_SITUATION_SYSTEM = `${HUB_CANONICAL_BASE}/CodeSystem/hud-hmis-living-situation`;

/** `fieldOverrides` key holding the partner's IANA time zone; UTC when absent. */
export const TIMEZONE_OVERRIDE = 'hmis.timezone';

/** How long after a housing loss the housing follow-up is due. */
const FOLLOW_UP_HOURS = 72;

const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const LOINC_HOUSING_STATUS = { system: 'http://loinc.org', code: '71802-3', display: 'Housing status' };

/** A living situation as the export records it (an exit may leave it empty), with where and when. */
interface RecordedSituation {
  readonly source: 'current-living-situation' | 'exit';
  /** CurrentLivingSitID or ExitID. */
  readonly id: string;
  readonly date: string;
  readonly situation?: HmisLivingSituation;
}

/** A recorded situation that says where the person lives (not 8, 9, 99, 30, 37, nor empty). */
type KnownSituation = RecordedSituation & { readonly situation: HmisLivingSituation };

/**
 * Maps one HMIS client to the hub:
 * - participant: the HMIS PersonalID (and the SSN when it is usable); name and birth date as far
 *   as HMIS data quality vouches for them.
 * - every exit and current living situation as a housing status Observation (LOINC 71802-3),
 *   each under its row's id, so the whole history is on the server; an exit that leaves
 *   Destination empty says so with a data-absent reason.
 * - when that situation is a housing loss, a `housing-instability` Flag, a `housing-follow-up`
 *   Task due 72 hours after the loss, and a `plan-change-trigger` event (`housing-loss`).
 * - the partner as housing navigator on the CareTeam while an enrollment is open.
 *
 * Housing loss: an exit to a homeless destination (HUD 101, 116, 118), or a current living
 * situation that is homeless or institutional (also 204, 205, 206, 207, 215, 225). Situations that
 * say nothing (8, 9, 99, 30, 37, or empty) are recorded but not "known": they neither make nor end
 * a loss. When the latest known
 * situation is a loss, the loss dates from the first of the unbroken run of losses that ends with
 * it, so repeated homeless contacts in one episode make one Flag and one Task, not one each.
 * Enrollment.LivingSituation is not used: it describes where the person was before entry.
 */
export function hmisToFhir(record: HmisClientRecord, ctx: MappingContext): MappedRecord {
  const writes: ResourceWrite[] = [];
  const events: HubEvent[] = [];
  const recorded = recordedSituations(record);
  writes.push(...recorded.map((s) => housingStatus(s, ctx)));
  const history = recorded.filter(isKnown);
  const latest = history.at(-1);
  if (latest) {
    if (isLoss(latest)) {
      const loss = firstOfLossRun(history);
      const start = localTime(loss.date, ctx);
      const flag = housingFlag(loss, ctx);
      writes.push(flag, followUpTask(loss, flag.fullUrl, start, ctx));
      events.push({
        type: 'plan-change-trigger',
        at: iso(start),
        trigger: 'housing-loss',
        focus: flag.fullUrl,
      });
    }
  }
  const navigator = housingNavigator(record, ctx);
  const demographics = demographicsOf(record);
  return {
    participant: {
      identifiers: participantIdentifiers(record, ctx),
      ...(demographics ? { demographics } : {}),
    },
    // The client as of the export: an older export sent after a newer one changes nothing. (A job
    // queued before exports carried their time has only the date.)
    writes: writes.map((w) => ({
      ...w,
      sourceTime: iso(localTime(record.export.exportedAt ?? record.export.exportDate, ctx)),
    })),
    ...(navigator ? { careTeamMembers: [navigator] } : {}),
    events,
    orderedAsOne: true,
  };
}

function participantIdentifiers(record: HmisClientRecord, ctx: MappingContext): Identifier[] {
  const ids: Identifier[] = [
    { system: sharedIdentifierSystem(ctx, 'hmis-personal-id'), value: record.personalId },
  ];
  const ssn = record.ssn?.replace(/-/g, '');
  if (ssn && record.ssnDataQuality === 1 && isIssuableSsn(ssn)) {
    ids.push({ system: sharedIdentifierSystem(ctx, 'ssn'), value: ssn });
  }
  return ids;
}

/**
 * Nine digits that the SSA could have issued: area not 000, 666 or 9xx, group not 00, serial not
 * 0000. An SSN links records across agencies, so a placeholder such as `000100343` must not.
 */
function isIssuableSsn(ssn: string): boolean {
  return /^(?!000|666|9)\d{3}(?!00)\d{2}(?!0000)\d{4}$/.test(ssn);
}

/**
 * Name and birth date per HMIS data quality: a full name (1) is `official`; a partial, street or
 * code name (2), or one of unstated quality, is `usual`; none for 8, 9 and 99. A full DOB (1) is
 * the birth date; an approximate DOB (2), or one of unstated quality, gives only its year.
 */
function demographicsOf(record: HmisClientRecord): Patient | undefined {
  const { first, middle, last, suffix, dataQuality } = record.name;
  const usable = (dq: number | undefined): boolean => dq === undefined || dq === 1 || dq === 2;
  const given = [first, middle].filter((g): g is string => g !== undefined);
  const name: HumanName | undefined =
    usable(dataQuality) && (last !== undefined || given.length > 0)
      ? {
          use: dataQuality === 1 ? 'official' : 'usual',
          ...(last !== undefined ? { family: last } : {}),
          ...(given.length > 0 ? { given } : {}),
          ...(suffix !== undefined ? { suffix: [suffix] } : {}),
        }
      : undefined;
  const birthDate =
    record.dob && usable(record.dobDataQuality)
      ? record.dobDataQuality === 1
        ? record.dob
        : record.dob.slice(0, 4)
      : undefined;
  if (!name && !birthDate) {
    return undefined;
  }
  return { resourceType: 'Patient', ...(name ? { name: [name] } : {}), ...(birthDate ? { birthDate } : {}) };
}

/** Every living situation the export records for the client, oldest first; on one day an exit comes last. */
function recordedSituations(record: HmisClientRecord): RecordedSituation[] {
  const all: RecordedSituation[] = [];
  for (const e of record.enrollments) {
    for (const c of e.currentLivingSituations) {
      all.push({
        source: 'current-living-situation',
        id: c.currentLivingSitId,
        date: c.informationDate,
        situation: c.situation,
      });
    }
    if (e.exit) {
      const { exitId, exitDate, destination } = e.exit;
      all.push({
        source: 'exit',
        id: exitId,
        date: exitDate,
        ...(destination ? { situation: destination } : {}),
      });
    }
  }
  const order = (s: RecordedSituation): number => (s.source === 'exit' ? 1 : 0);
  // Array.prototype.sort is stable: equal entries keep the export's order.
  return all.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : order(a) - order(b)));
}

function isKnown(s: RecordedSituation): s is KnownSituation {
  return s.situation !== undefined && s.situation.category !== 'unknown';
}

function isLoss(s: KnownSituation): boolean {
  const category = s.situation.category;
  return category === 'homeless' || (s.source === 'current-living-situation' && category === 'institutional');
}

function firstOfLossRun(history: readonly KnownSituation[]): KnownSituation {
  let i = history.length - 1;
  while (i > 0 && isLoss(history[i - 1]!)) {
    i--;
  }
  return history[i]!;
}

/** Observations are identified by their source row; Flags and Tasks by the loss they answer. */
function sourceKey(s: RecordedSituation): { recordType: string; value: string } {
  return s.source === 'exit'
    ? { recordType: 'hmis-exit', value: s.id }
    : { recordType: 'hmis-current-living-situation', value: s.id };
}

function housingStatus(s: RecordedSituation, ctx: MappingContext): ResourceWrite {
  const key = sourceKey(s);
  const observation: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'social-history',
            display: 'Social History',
          },
        ],
      },
    ],
    code: { coding: [LOINC_HOUSING_STATUS] },
    subject: { reference: PARTICIPANT_REF },
    effectiveDateTime: s.date,
    performer: [partnerRef(ctx)],
    ...(s.situation
      ? {
          valueCodeableConcept: {
            coding: [
              {
                system: HUD_LIVING_SITUATION_SYSTEM,
                code: String(s.situation.code),
                display: s.situation.display,
              },
            ],
          },
        }
      : {
          dataAbsentReason: {
            coding: [{ system: DATA_ABSENT_REASON, code: 'unknown', display: 'Unknown' }],
            text: 'Destination left empty in the HMIS export',
          },
        }),
    method: { text: s.source === 'exit' ? 'HUD HMIS exit destination' : 'HUD HMIS current living situation' },
  };
  return resourceWrite(observation, sourceIdentifier(ctx, key.recordType, key.value));
}

function lossKey(s: KnownSituation): string {
  const key = sourceKey(s);
  return `${key.recordType}-${key.value}`;
}

function housingFlag(loss: KnownSituation, ctx: MappingContext): ResourceWrite {
  const what = loss.source === 'exit' ? 'exit to' : 'living situation';
  const flag: Flag = {
    resourceType: 'Flag',
    status: 'active',
    code: {
      coding: [{ system: CODE_SYSTEM.riskFlag, code: 'housing-instability', display: 'Housing instability' }],
      text: `Housing instability: ${what} ${loss.situation.display}`,
    },
    subject: { reference: PARTICIPANT_REF },
    period: { start: loss.date },
    author: partnerRef(ctx),
  };
  return resourceWrite(flag, sourceIdentifier(ctx, 'hmis-housing-loss-flag', lossKey(loss)));
}

function followUpTask(
  loss: KnownSituation,
  flagUrl: string,
  start: DateTime,
  ctx: MappingContext,
): ResourceWrite {
  const task = hubTask({
    code: 'housing-follow-up',
    display: 'Housing follow-up',
    description: `Follow up on housing loss reported by HMIS on ${loss.date}: ${loss.situation.display}`,
    focus: flagUrl,
    for: PARTICIPANT_REF,
    owner: partnerRef(ctx),
    due: iso(start.plus({ hours: FOLLOW_UP_HOURS })),
  });
  return resourceWrite(task, sourceIdentifier(ctx, 'hmis-housing-follow-up-task', lossKey(loss)));
}

/** The partner as housing navigator from the earliest entry among enrollments with no exit. */
function housingNavigator(record: HmisClientRecord, ctx: MappingContext): CareTeamMember | undefined {
  const open = record.enrollments.filter((e) => !e.exit).map((e) => e.entryDate);
  if (open.length === 0) {
    return undefined;
  }
  const start = open.reduce((a, b) => (b < a ? b : a));
  return { role: 'housing-navigator', member: partnerRef(ctx), period: { start } };
}

/** An HMIS date (midnight) or date-time, which has no zone, in the partner's time zone. */
function localTime(date: string, ctx: MappingContext): DateTime {
  const zone = ctx.partner.fieldOverrides?.[TIMEZONE_OVERRIDE] ?? 'UTC';
  if (typeof zone !== 'string' || !IANAZone.isValidZone(zone)) {
    throw new ConfigError([
      `partner ${ctx.partner.id}: fieldOverrides["${TIMEZONE_OVERRIDE}"] must be an IANA time zone such as America/New_York`,
    ]);
  }
  return DateTime.fromISO(date, { zone });
}

function iso(dt: DateTime): string {
  const text = dt.toISO({ suppressMilliseconds: true });
  if (!text) {
    throw new Error(`not a valid date-time: ${dt.invalidExplanation ?? ''}`);
  }
  return text;
}
