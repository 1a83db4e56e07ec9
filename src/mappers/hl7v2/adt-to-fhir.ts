import type {
  Address,
  CodeableConcept,
  Coding,
  ContactPoint,
  Encounter,
  EncounterParticipant,
  Flag,
  HumanName,
  Identifier,
  Patient,
  Period,
} from 'fhir/r4.js';
import type { AdtMessage, AdtPatient, AdtStaff, AdtVisit } from '../../adapters/hl7v2/types.js';
import { CODE_SYSTEM } from '../../fhir/profiles.js';
import {
  partnerRef,
  resourceWrite,
  sharedIdentifierSystem,
  sourceIdentifier,
  translateCode,
} from '../support.js';
import {
  PARTICIPANT_REF,
  type HubEvent,
  type MappedRecord,
  type MappingContext,
  type ResourceWrite,
} from '../types.js';
import { partnerTimeZone, toFhirDate, toFhirDateTime } from './hl7-time.js';

const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const V2_PATIENT_CLASS = 'http://terminology.hl7.org/CodeSystem/v2-0004';
const V2_DISCHARGE_DISPOSITION = 'http://terminology.hl7.org/CodeSystem/v2-0112';
const DISCHARGE_DISPOSITION = 'http://terminology.hl7.org/CodeSystem/discharge-disposition';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const NPI = 'http://hl7.org/fhir/sid/us-npi';

/** Partner code tables (`codeTranslations`) this mapper reads. */
export const CODE_TABLES = {
  /** PV1-2 local code -> v3 ActCode encounter class. */
  patientClass: 'hl7.patientClass',
  /** PID-8 local code (outside HL7 table 0001) -> FHIR AdministrativeGender code. */
  administrativeSex: 'hl7.administrativeSex',
  /** PV1-36 local code -> FHIR discharge-disposition code. */
  dischargeDisposition: 'hl7.dischargeDisposition',
} as const;

/** v3 ActEncounterCode: the codes Encounter.class is meant to use. */
const ENCOUNTER_CLASSES: Readonly<Record<string, string>> = {
  AMB: 'ambulatory',
  EMER: 'emergency',
  FLD: 'field',
  HH: 'home health',
  IMP: 'inpatient encounter',
  ACUTE: 'inpatient acute',
  NONAC: 'inpatient non-acute',
  OBSENC: 'observation encounter',
  PRENC: 'pre-admission',
  SS: 'short stay',
  VR: 'virtual',
};

/** HL7 table 0004 codes with an obvious v3 class. */
const CLASS_FROM_V2: Readonly<Record<string, string>> = { I: 'IMP', E: 'EMER', O: 'AMB' };

const GENDERS = ['male', 'female', 'other', 'unknown'] as const;

/** FHIR R4 discharge-disposition codes (what `hl7.dischargeDisposition` translates to). */
const DISCHARGE_DISPOSITIONS = [
  'home',
  'alt-home',
  'other-hcf',
  'hosp',
  'long',
  'aadvice',
  'exp',
  'psy',
  'rehab',
  'snf',
  'oth',
] as const;

/** The codes each of this mapper's tables may translate to, checked when partner files load. */
export const CODE_TABLE_TARGETS: Readonly<Record<string, readonly string[]>> = {
  [CODE_TABLES.patientClass]: Object.keys(ENCOUNTER_CLASSES),
  [CODE_TABLES.administrativeSex]: GENDERS,
  [CODE_TABLES.dischargeDisposition]: DISCHARGE_DISPOSITIONS,
};

const NAME_USE: Readonly<Record<string, HumanName['use']>> = {
  L: 'official',
  D: 'usual',
  M: 'maiden',
  N: 'nickname',
  S: 'anonymous',
};

/**
 * Maps one ADT message to the participant (identifiers, demographics), an Encounter for the
 * visit, a `recent-ed-contact` Flag for emergency visits, the partner on the CareTeam, and the
 * admission/discharge events the coordination rules act on. Pure and deterministic: local HL7
 * times are placed in `fieldOverrides['hl7.timezone']` (default UTC).
 *
 * Encounter identifier: PV1-19 as `sid/<partner>/visit`; without one, `sid/<partner>/visit-derived`
 * with value `[<PID-3.4>/]<PID-3.1>@<PV1-44, else the event time>` (first PID-3, times as sent),
 * so the same visit resent maps to the same Encounter. An A08 without PV1-19 and PV1-44 writes no
 * Encounter. Period: start PV1-44 (A01/A04: else the event time); end, only once finished, PV1-45
 * (else the event time). Event times: PV1-44/PV1-45 for admission/discharge, else the event time.
 */
export function adtToFhir(msg: AdtMessage, ctx: MappingContext): MappedRecord {
  const zone = partnerTimeZone(ctx);
  const time = (value: string): string => toFhirDateTime(value, zone);
  const writes: ResourceWrite[] = [];
  const events: HubEvent[] = [];

  const visit = identifiableVisit(msg);
  if (visit) {
    const identifier = encounterIdentifier(msg, visit, ctx);
    const encounterClass = classOf(visit.patientClass, ctx);
    const status = statusOf(msg, visit, encounterClass);
    const start = visit.admitTime ?? (ARRIVALS.has(msg.trigger) ? msg.eventTime : undefined);
    const end = status === 'finished' ? (visit.dischargeTime ?? msg.eventTime) : undefined;
    const period: Period = { ...(start ? { start: time(start) } : {}), ...(end ? { end: time(end) } : {}) };
    const participant = visit.attending.map((staff) => attendingOf(staff, ctx));
    const location = locationText(visit);
    const disposition = dispositionOf(visit.dischargeDisposition, ctx);

    const encounter: Encounter = {
      resourceType: 'Encounter',
      status,
      class: encounterClass,
      subject: { reference: PARTICIPANT_REF },
      ...(participant.length > 0 ? { participant } : {}),
      ...(period.start || period.end ? { period } : {}),
      ...(disposition ? { hospitalization: { dischargeDisposition: disposition } } : {}),
      ...(location ? { location: [{ location: { display: location } }] } : {}),
      serviceProvider: partnerRef(ctx),
    };
    const encounterWrite = resourceWrite(encounter, identifier);
    writes.push(encounterWrite);

    if (encounterClass.code === 'EMER') {
      const flag = edContactFlag(msg, time(start ?? msg.eventTime), encounterWrite.fullUrl, ctx);
      writes.push(resourceWrite(flag, sourceIdentifier(ctx, 'ed-contact', identifier.value!)));
    }

    const event = eventOf(msg, visit, encounterWrite.fullUrl);
    if (event) {
      events.push({ ...event, at: time(event.at) });
    }
  }

  // The visit's state as of the event: a message about an earlier moment never overwrites it.
  const sourceTime = time(msg.eventTime);
  return {
    participant: {
      identifiers: participantIdentifiers(msg.patient, ctx),
      demographics: demographicsOf(msg.patient, ctx),
      ...(msg.merged
        ? { merged: participantIdentifiers({ ...msg.patient, identifiers: msg.merged }, ctx) }
        : {}),
    },
    writes: writes.map((w) => ({ ...w, sourceTime })),
    orderedAsOne: true,
    careTeamMembers: [
      {
        role: ctx.partner.kind === 'behavioral-health' ? 'bh-clinician' : 'care-manager',
        member: partnerRef(ctx),
      },
    ],
    events,
  };
}

/** The `recent-ed-contact` risk flag of an emergency visit. */
function edContactFlag(msg: AdtMessage, start: string, encounter: string, ctx: MappingContext): Flag {
  return {
    resourceType: 'Flag',
    // A cancelled admission means the ED visit did not happen as recorded.
    status: msg.trigger === 'A11' ? 'entered-in-error' : 'active',
    code: {
      coding: [{ system: CODE_SYSTEM.riskFlag, code: 'recent-ed-contact', display: 'Recent ED contact' }],
    },
    subject: { reference: PARTICIPANT_REF },
    period: { start },
    encounter: { reference: encounter },
    author: partnerRef(ctx),
  };
}

/**
 * PID-3 identifiers: PID-3.4 (assigning authority), then PID-3.5 (type code), looked up in
 * `identifiers.assigningAuthorities`; type `SS` is an SSN unless configured otherwise. Others are
 * partner-local: `sid/<partner>/patient-id[/<authority>]`. SSNs lose their dashes, so every
 * agency's copy of one SSN is the same value.
 */
function participantIdentifiers(patient: AdtPatient, ctx: MappingContext): Identifier[] {
  const authorities = ctx.partner.identifiers?.assigningAuthorities ?? {};
  const seen = new Set<string>();
  return patient.identifiers.flatMap((pid3): Identifier[] => {
    const kind =
      (pid3.assigningAuthority ? authorities[pid3.assigningAuthority] : undefined) ??
      (pid3.typeCode ? authorities[pid3.typeCode] : undefined) ??
      (pid3.typeCode === 'SS' ? 'ssn' : undefined);
    const identifier: Identifier = kind
      ? {
          system: sharedIdentifierSystem(ctx, kind),
          value: kind === 'ssn' ? pid3.id.replace(/[\s-]/g, '') : pid3.id,
        }
      : sourceIdentifier(
          ctx,
          pid3.assigningAuthority
            ? `patient-id/${encodeURIComponent(pid3.assigningAuthority)}`
            : 'patient-id',
          pid3.id,
        );
    const key = `${identifier.system}|${identifier.value}`;
    if (seen.has(key)) {
      return [];
    }
    seen.add(key);
    return [identifier];
  });
}

function demographicsOf(patient: AdtPatient, ctx: MappingContext): Patient {
  const gender = patient.gender ?? genderOf(patient.administrativeSex, ctx);
  const name = patient.names.map((n): HumanName => ({
    ...(n.typeCode && NAME_USE[n.typeCode] ? { use: NAME_USE[n.typeCode] } : {}),
    ...(n.family ? { family: n.family } : {}),
    ...(n.given.length > 0 ? { given: [...n.given] } : {}),
    ...(n.prefix ? { prefix: [n.prefix] } : {}),
    ...(n.suffix ? { suffix: [n.suffix] } : {}),
  }));
  const address = patient.addresses.map((a): Address => ({
    ...addressUse(a.typeCode),
    ...(a.lines.length > 0 ? { line: [...a.lines] } : {}),
    ...(a.city ? { city: a.city } : {}),
    ...(a.state ? { state: a.state } : {}),
    ...(a.postalCode ? { postalCode: a.postalCode } : {}),
    ...(a.country ? { country: a.country } : {}),
  }));
  const telecom = patient.telecom.map((t): ContactPoint => ({
    system: t.system,
    value: t.value,
    use: t.use,
  }));
  return {
    resourceType: 'Patient',
    ...(name.length > 0 ? { name } : {}),
    ...(gender ? { gender } : {}),
    ...(patient.birthDate ? { birthDate: toFhirDate(patient.birthDate) } : {}),
    ...(address.length > 0 ? { address } : {}),
    ...(telecom.length > 0 ? { telecom } : {}),
  };
}

/** A local PID-8 code through the partner's table; a code it does not know leaves gender out. */
function genderOf(code: string | undefined, ctx: MappingContext): Patient['gender'] {
  const translated = code ? translateCode(ctx, CODE_TABLES.administrativeSex, code) : undefined;
  return GENDERS.find((g) => g === translated);
}

/** HL7 table 0190 address type to FHIR use/type. */
const ADDRESS_USE: Readonly<Record<string, Pick<Address, 'use' | 'type'>>> = {
  H: { use: 'home' },
  B: { use: 'work' },
  O: { use: 'work' },
  C: { use: 'temp' },
  M: { type: 'postal' },
};

function addressUse(typeCode: string | undefined): Pick<Address, 'use' | 'type'> {
  return (typeCode ? ADDRESS_USE[typeCode] : undefined) ?? {};
}

/**
 * The visit to write an Encounter for. An A08 whose PV1 has neither a visit number nor an admit
 * time names no particular visit: it updates demographics only (an id derived from its event time
 * would make a new Encounter per update).
 */
function identifiableVisit(msg: AdtMessage): AdtVisit | undefined {
  const visit = msg.visit;
  if (msg.trigger === 'A08' && visit && !visit.visitNumber && !visit.admitTime) {
    return undefined;
  }
  return visit;
}

function encounterIdentifier(msg: AdtMessage, visit: AdtVisit, ctx: MappingContext): Identifier {
  if (visit.visitNumber) {
    return sourceIdentifier(ctx, 'visit', visit.visitNumber);
  }
  // The adapter guarantees at least one PID-3.
  const pid3 = msg.patient.identifiers[0]!;
  const patientKey = pid3.assigningAuthority ? `${pid3.assigningAuthority}/${pid3.id}` : pid3.id;
  return sourceIdentifier(ctx, 'visit-derived', `${patientKey}@${visit.admitTime ?? msg.eventTime}`);
}

/**
 * Encounter.class: the partner's translation (`hl7.patientClass`), else I/E/O as IMP/EMER/AMB,
 * else the code itself when it is a v3 ActEncounterCode, else the v2 table 0004 code (the
 * binding is extensible, so the sender's meaning is kept rather than guessed).
 */
function classOf(patientClass: string, ctx: MappingContext): Coding {
  const translated = translateCode(ctx, CODE_TABLES.patientClass, patientClass);
  const code = translated ?? CLASS_FROM_V2[patientClass] ?? patientClass;
  const display = ENCOUNTER_CLASSES[code];
  return display ? { system: V3_ACT_CODE, code, display } : { system: V2_PATIENT_CLASS, code: patientClass };
}

/** Triggers whose event time is when the stay began, when PV1-44 does not say. */
const ARRIVALS: ReadonlySet<string> = new Set(['A01', 'A04', 'A06']);

function statusOf(msg: AdtMessage, visit: AdtVisit, encounterClass: Coding): Encounter['status'] {
  switch (msg.trigger) {
    case 'A01':
    case 'A02': // transferred: still there, elsewhere
    case 'A04': // registration of an outpatient/ED visit: the patient is there
    case 'A06': // an outpatient now admitted
    case 'A07': // an inpatient now seen as an outpatient
    case 'A13': // discharge cancelled: the stay goes on
    case 'A16': // discharge pending: still there
      return 'in-progress';
    case 'A05': // pre-admission: the stay is planned
      return 'planned';
    case 'A03':
      return 'finished';
    case 'A11':
      return 'cancelled';
    case 'A08': // an update says where the visit stands through its own fields
    case 'A28': // person-level: the adapter reads no visit for these
    case 'A31':
    case 'A34':
    case 'A40':
      if (visit.dischargeTime) {
        return 'finished';
      }
      return encounterClass.code === 'PRENC' ? 'planned' : 'in-progress';
  }
}

function eventOf(msg: AdtMessage, visit: AdtVisit, encounter: string): HubEvent | undefined {
  switch (msg.trigger) {
    case 'A01':
    case 'A04':
    case 'A06':
      return { type: 'admission', at: visit.admitTime ?? msg.eventTime, encounter };
    case 'A03':
      return { type: 'discharge', at: visit.dischargeTime ?? msg.eventTime, encounter };
    case 'A11':
      return { type: 'admission-cancelled', at: msg.eventTime, encounter };
    case 'A13':
      return { type: 'discharge-cancelled', at: msg.eventTime, encounter };
    case 'A02':
    case 'A05':
    case 'A07':
    case 'A08':
    case 'A16':
    case 'A28':
    case 'A31':
    case 'A34':
    case 'A40':
      return undefined;
  }
}

/** PV1-36 as sent (v2 table 0112), preceded by the partner's FHIR code when it translates it. */
function dispositionOf(code: string | undefined, ctx: MappingContext): CodeableConcept | undefined {
  if (!code) {
    return undefined;
  }
  const translated = translateCode(ctx, CODE_TABLES.dischargeDisposition, code);
  return {
    coding: [
      ...(translated ? [{ system: DISCHARGE_DISPOSITION, code: translated }] : []),
      { system: V2_DISCHARGE_DISPOSITION, code },
    ],
  };
}

/** The attending doctor as a participant with a logical reference (no Practitioner is written). */
function attendingOf(staff: AdtStaff, ctx: MappingContext): EncounterParticipant {
  const display = [staff.prefix, ...staff.given, staff.family, staff.suffix].filter(Boolean).join(' ');
  const identifier: Identifier | undefined = staff.id
    ? staff.assigningAuthority === 'NPI'
      ? { system: NPI, value: staff.id }
      : sourceIdentifier(ctx, 'staff-id', staff.id)
    : undefined;
  return {
    type: [{ coding: [{ system: PARTICIPATION_TYPE, code: 'ATND', display: 'attender' }] }],
    individual: { ...(identifier ? { identifier } : {}), ...(display ? { display } : {}) },
  };
}

function locationText(visit: AdtVisit): string | undefined {
  const l = visit.assignedLocation;
  const text = l ? [l.facility, l.pointOfCare, l.room, l.bed].filter(Boolean).join(' ') : '';
  return text || undefined;
}
