import type { AuditEvent, Coding } from 'fhir/r4.js';

/** A refused request worth an AuditEvent: who (when known), what, and why. */
export interface RefusedAccess {
  readonly partnerId?: string;
  readonly method: string;
  readonly path: string;
  readonly reason: string;
}

/**
 * A refused request as a security-alert AuditEvent (DICOM 110113): who asked (when the token said),
 * for what, and why it was refused, so an auditor can list refusals per partner.
 */
export function accessRefusal(refused: RefusedAccess, at: Date): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: {
      system: 'http://dicom.nema.org/resources/ontology/DCM',
      code: '110113',
      display: 'Security Alert',
    },
    action: 'E',
    recorded: at.toISOString(),
    outcome: '4',
    outcomeDesc: refused.reason,
    agent: [
      {
        ...(refused.partnerId
          ? { who: { reference: `Organization/${refused.partnerId}` } }
          : { who: { display: 'unauthenticated client' } }),
        requestor: true,
      },
    ],
    source: { observer: { display: 'Care coordination hub' } },
    entity: [{ what: { display: `${refused.method} ${refused.path.slice(0, 200)}` } }],
  };
}

/** What every export (DICOM 110106) AuditEvent says: a successful read out of the hub, by the hub. */
function exported(
  at: Date,
): Pick<AuditEvent, 'resourceType' | 'type' | 'action' | 'recorded' | 'outcome' | 'source'> {
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' },
    action: 'R',
    recorded: at.toISOString(),
    outcome: '0',
    source: { observer: { display: 'Care coordination hub' } },
  };
}

/** The participant an audited event is about (audit-entity-type 1, a person). */
function participantEntity(patient: string): NonNullable<AuditEvent['entity']>[number] {
  return {
    what: { reference: patient },
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1' },
  };
}

/**
 * A disclosure (DICOM 110106 Export): which plan version went to which partner, for which
 * participant, with its security labels, so an auditor can list every disclosure per participant.
 */
export function disclosure(
  d: { partnerId: string; patient: string; what: string; labels?: readonly Coding[] },
  at: Date,
): AuditEvent {
  return {
    ...exported(at),
    agent: [
      { who: { display: 'Care coordination hub' }, requestor: false },
      { who: { reference: `Organization/${d.partnerId}` }, requestor: true },
    ],
    entity: [
      { what: { reference: d.what }, ...(d.labels?.length ? { securityLabel: [...d.labels] } : {}) },
      participantEntity(d.patient),
    ],
  };
}

/** A disclosure the hub refused: Part 2 data for a partner the participant has not consented to. */
export function withheldDisclosure(
  d: { partnerId: string; patient: string; what: string },
  at: Date,
): AuditEvent {
  return {
    ...disclosure(d, at),
    outcome: '4',
    outcomeDesc: `42 CFR Part 2: no active Consent lets ${d.partnerId} receive this; withheld`,
  };
}

/**
 * Staff took data out of the hub (DICOM 110106 Export): a participant's copy of their record, an
 * evidence CSV. Who (the signed-in member of staff), what, and about whom when it is one person.
 */
export function staffExport(e: { staff: string; what: string; patient?: string }, at: Date): AuditEvent {
  return {
    ...exported(at),
    agent: [{ who: { display: e.staff }, requestor: true }],
    entity: [{ what: { display: e.what } }, ...(e.patient ? [participantEntity(e.patient)] : [])],
  };
}

/**
 * Staff changed a partner's record before the hub applied it (an engineer's edit and replay of a
 * rejected record; DICOM 110110 Patient Record, action U): who, which record, and why.
 */
export function staffEdit(e: { staff: string; what: string; reason: string }, at: Date): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: {
      system: 'http://dicom.nema.org/resources/ontology/DCM',
      code: '110110',
      display: 'Patient Record',
    },
    action: 'U',
    recorded: at.toISOString(),
    outcome: '0',
    source: { observer: { display: 'Care coordination hub' } },
    agent: [{ who: { display: e.staff }, requestor: true }],
    entity: [{ what: { display: e.what }, description: e.reason }],
  };
}
