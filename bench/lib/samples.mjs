// Synthetic inbound batches for every format, written after test/fixtures/ingest/samples.ts (the
// bench does not import test code). Every record is about a fresh made-up person, so each record
// is a real write on the FHIR server (no record is an unchanged repeat of an earlier run's).
import AdmZip from 'adm-zip';
import { Buffer } from 'node:buffer';
import { randomInt, randomUUID } from 'node:crypto';

export const IDENTIFIER_BASE = 'https://carecoord.example.org';
export const MEDICAID_SYSTEM = `${IDENTIFIER_BASE}/sid/medicaid`;

/** Which demo partner sends which format (the shipped partner files allow exactly these). */
export const SENDER = {
  'hl7v2-adt': 'northside-bh',
  'service-plan': 'sunrise-hcbs',
  'evv-csv': 'sunrise-hcbs',
  'crisis-update': 'sunrise-hcbs',
  'hmis-csv': 'harbor-housing',
  'fhir-message': 'sunrise-hcbs',
  'fhir-transaction': 'northside-bh',
};

export const CONTENT_TYPE = {
  'hl7v2-adt': 'application/hl7-v2',
  'service-plan': 'application/json',
  'evv-csv': 'text/csv',
  'crisis-update': 'application/json',
  'hmis-csv': 'application/zip',
  'fhir-message': 'application/fhir+json',
  'fhir-transaction': 'application/fhir+json',
};

/** Formats whose body holds one record only; the others take `batch` records per request. */
export const ONE_PER_BODY = new Set(['fhir-message', 'fhir-transaction']);

const short = () => randomUUID().replaceAll('-', '').slice(0, 12);

// Records are dated around the run, as live traffic is: an obligation a record opens is due
// ahead, not overdue on arrival (a backfill of old records would also raise an escalation each).
const HOUR = 3_600_000;
/** `YYYY-MM-DD` `days` from now (negative: ago). */
const day = (days) => new Date(Date.now() + days * 24 * HOUR).toISOString().slice(0, 10);
/** `YYYY-MM-DDTHH:MM` (no zone) `hours` from now, in UTC. */
const minute = (hours) => new Date(Date.now() + hours * HOUR).toISOString().slice(0, 16);
/** An HL7 v2 DTM `hours` from now, in UTC, with its offset. */
const hl7Time = (hours) =>
  `${new Date(Date.now() + hours * HOUR).toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
/** An ISO instant `hours` from now. */
const instant = (hours) => new Date(Date.now() + hours * HOUR).toISOString();

export function newPerson() {
  const tag = short();
  const pad = (n, w) => String(n).padStart(w, '0');
  return {
    medicaid: `BMCD-${short()}`,
    ssn: `${pad(randomInt(1, 666), 3)}${pad(randomInt(1, 100), 2)}${pad(randomInt(1, 10000), 4)}`,
    mrn: `BMRN-${short()}`,
    member: `BMEM-${short()}`,
    personalId: `BHMIS-${short()}`,
    family: 'Benchley',
    given: 'Robin',
    birthDate: '1961-07-04',
    tag,
  };
}

// ------------------------------------------------------------------------------------------------
// HL7 v2 ADT (A01 admissions from the BH clinic)

function segment(name, fields) {
  const last = Math.max(...Object.keys(fields).map(Number));
  return [name, ...Array.from({ length: last }, (_, i) => fields[i + 1] ?? '')].join('|');
}

export function adt(person) {
  const sent = hl7Time(-0.2);
  return [
    `MSH|^~\\&|NBHEHR|NORTHSIDE|HUB|CARECOORD|${sent}||ADT^A01^ADT_A01|C${person.tag}|P|2.5.1`,
    `EVN|A01|${sent}`,
    `PID|1||${person.mrn}^^^NBH^MR~${person.medicaid}^^^MCD^MA~${person.ssn}^^^SSA^SS||${person.family}^${person.given}^^^^^L||${person.birthDate.replaceAll('-', '')}|F`,
    segment('PV1', {
      1: '1',
      2: 'I',
      3: 'PSY^204^A^NORTHSIDE',
      7: '10045^Carer^Morgan^^^Dr.^^^NBH',
      19: `V${person.tag}`,
      44: hl7Time(-0.5),
    }),
  ]
    .map((s) => `${s}\r`)
    .join('');
}

// ------------------------------------------------------------------------------------------------
// HUD HMIS CSV export (one zip per batch, one client per person, each reported homeless)

const HMIS_HEADERS = {
  'Export.csv': 'ExportID,SourceName,ExportDate,ExportStartDate,ExportEndDate,CSVVersion',
  'Organization.csv': 'OrganizationID,OrganizationName,DateDeleted,ExportID',
  'Project.csv': 'ProjectID,OrganizationID,ProjectName,ProjectType,DateDeleted,ExportID',
  'Client.csv':
    'PersonalID,FirstName,MiddleName,LastName,NameSuffix,NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,DateDeleted,ExportID',
  'Enrollment.csv': 'EnrollmentID,PersonalID,ProjectID,EntryDate,MoveInDate,DateDeleted,ExportID',
  'Exit.csv': 'ExitID,EnrollmentID,PersonalID,ExitDate,Destination,DateDeleted,ExportID',
  'CurrentLivingSituation.csv':
    'CurrentLivingSitID,EnrollmentID,PersonalID,InformationDate,CurrentLivingSituation,DateDeleted,ExportID',
  'Services.csv':
    'ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateDeleted,ExportID',
};

export function hmisZip(people) {
  const rows = Object.fromEntries(Object.keys(HMIS_HEADERS).map((f) => [f, []]));
  rows['Export.csv'].push(`EX-${short()},Harbor HMIS,${day(0)} 06:00:00,${day(-20)},${day(-1)},2026 v1.0`);
  rows['Organization.csv'].push('71,Harbor Housing Collaborative,,EX');
  rows['Project.csv'].push('710,71,Harbor Rapid Rehousing,13,,EX');
  for (const p of people) {
    const e = `E-${p.tag}`;
    rows['Client.csv'].push(`${p.personalId},${p.given},,${p.family},,1,${p.ssn},1,${p.birthDate},1,,EX`);
    rows['Enrollment.csv'].push(`${e},${p.personalId},710,${day(-18)},,,EX`);
    // 116: place not meant for habitation (housing loss: a Flag, a Task and a plan-change trigger).
    rows['CurrentLivingSituation.csv'].push(`C-${p.tag},${e},${p.personalId},${day(-1)},116,,EX`);
    rows['Services.csv'].push(`S-${p.tag},${e},${p.personalId},${day(-1)},141,4,,EX`);
  }
  const zip = new AdmZip();
  for (const [name, header] of Object.entries(HMIS_HEADERS)) {
    zip.addFile(`export/${name}`, Buffer.from([header, ...rows[name]].join('\r\n') + '\r\n', 'utf8'));
  }
  return zip.toBuffer();
}

// ------------------------------------------------------------------------------------------------
// HCBS service plan, EVV visits, crisis update

/** A person-centred service plan; `revision` changes the weekly hours (a change that alters delivery). */
export function servicePlan(person, revision = 1) {
  return {
    planId: `SP-${person.tag}`,
    planVersion: String(revision),
    planEffectiveDate: day(-5),
    planEndDate: day(360),
    planReviewDate: day(180),
    person: {
      personIdentifier: person.member,
      medicaidId: person.medicaid,
      personName: { family: person.family, given: [person.given] },
      personDateOfBirth: person.birthDate,
    },
    supportPlanner: { name: 'Jordan Casewell', phoneNumber: '555-0142' },
    personSignatureDate: day(-7),
    goals: [
      {
        goalId: 'G1',
        goal: 'I want to stay in my own apartment.',
        target: 'Prepares a hot meal on four days a week',
        targetDate: day(180),
      },
    ],
    preferences: ['Morning visits'],
    risks: [
      {
        riskId: 'R1',
        identifiedRisk: 'Falls when getting out of the shower',
        riskManagementPlan: 'Grab bar installed',
        riskCode: 'FALL',
      },
    ],
    services: [
      {
        serviceId: 'S1',
        serviceName: 'Personal care',
        serviceCode: 'T1019-U3',
        serviceStartDate: day(-5),
        serviceUnitQuantity: 19 + revision,
        unitOfServiceType: 'hours',
        serviceUnitQuantityInterval: 'per week',
        serviceProviderName: 'Sam Helper',
        serviceProviderAgency: 'Sunrise Home and Community Services',
        serviceProviderAgencyId: 'sunrise-hcbs',
        selfDirectedServiceIndicator: false,
        goalIds: ['G1'],
      },
    ],
  };
}

const EVV_HEADER =
  'VisitID,MedicaidID,MemberID,ServiceCode,CaregiverID,ScheduledStart,ScheduledEnd,ActualStart,ActualEnd,VisitStatus,ExceptionCode,Timezone';

/** One visit row; every fourth person missed the visit (a Flag and a Task), the others got it (an Encounter). */
export function evvRow(person, index) {
  // Local times of the partner's zone, written 12 hours back from UTC: in the past in any US zone.
  const [start, end] = [minute(-14), minute(-12)];
  return index % 4 === 3
    ? `V-${person.tag},${person.medicaid},${person.member},T1019-U3,CG-17,${start},${end},,,NOSHOW,27,`
    : `V-${person.tag},${person.medicaid},${person.member},T1019-U3,CG-17,${start},${end},${start},${end},COMPLETED,,`;
}

/** A crisis stabilization update crossing thresholds (a Task, Flags and same-day escalations). */
export function crisisUpdate(person) {
  return {
    updateId: `CU-${person.tag}`,
    participant: { medicaidId: person.medicaid },
    author: { name: 'Riley Overnight', role: 'Residential support lead' },
    eventDateTime: instant(-1),
    presentingRisk: 'Threats of self-harm after a family phone call',
    immediateResponse: 'Crisis plan followed; de-escalated without emergency transport',
    currentPresentation: 'Slept five hours, accepted breakfast',
    temporarySupportChanges: 'Evening check-ins every 30 minutes for 72 hours',
    familyContact: 'Mother informed at 21:00',
    nextReviewAt: instant(20),
    nextUpdateSupervisor: { name: 'Dana Shiftlead', role: 'Residential supervisor', staffId: 'EMP-0092' },
    thresholdsCrossed: ['self-harm-risk', 'mobile-crisis'],
  };
}

// ------------------------------------------------------------------------------------------------
// FHIR message and FHIR transaction

export function fhirMessage(person, partnerId) {
  const messageId = `msg-${person.tag}`;
  return {
    resourceType: 'Bundle',
    type: 'message',
    timestamp: instant(0),
    entry: [
      {
        fullUrl: `urn:uuid:${messageId}-header`,
        resource: {
          resourceType: 'MessageHeader',
          id: messageId,
          eventCoding: {
            system: `${IDENTIFIER_BASE}/fhir/CodeSystem/hub-message-event`,
            code: 'communication',
          },
          source: { endpoint: `https://${partnerId}.example.org/fhir` },
          sender: { reference: `Organization/${partnerId}` },
        },
      },
      {
        fullUrl: 'urn:uuid:patient',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: MEDICAID_SYSTEM, value: person.medicaid }],
        },
      },
      {
        fullUrl: 'urn:uuid:r0',
        resource: {
          resourceType: 'Communication',
          status: 'completed',
          identifier: [
            { system: `https://${partnerId}.example.org/communication`, value: `C-${person.tag}` },
          ],
          subject: { reference: 'urn:uuid:patient' },
          payload: [{ contentString: 'Aide visit went well' }],
        },
      },
    ],
  };
}

export function fhirTransaction(person) {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    identifier: { system: 'https://northside.example.org/tx', value: `tx-${person.tag}` },
    entry: [
      {
        fullUrl: patientUrl,
        resource: { resourceType: 'Patient', name: [{ family: person.family, given: [person.given] }] },
        request: { method: 'PUT', url: `Patient?identifier=https://northside.example.org/mrn|${person.mrn}` },
      },
      {
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
          subject: { reference: patientUrl },
          period: { start: instant(-50), end: instant(-2) },
        },
        request: {
          method: 'POST',
          url: 'Encounter',
          ifNoneExist: `identifier=https://northside.example.org/visit|V${person.tag}`,
        },
      },
    ],
  };
}

// ------------------------------------------------------------------------------------------------

/**
 * `count` records of `format` as request bodies of up to `batch` records each, one fresh person per
 * record: `[{ body: Buffer, records: n }]`.
 */
export function makeBodies(format, count, batch) {
  const per = ONE_PER_BODY.has(format) ? 1 : batch;
  const bodies = [];
  for (let done = 0; done < count; done += per) {
    const people = Array.from({ length: Math.min(per, count - done) }, newPerson);
    bodies.push({ body: bodyFor(format, people, done), records: people.length });
  }
  return bodies;
}

function bodyFor(format, people, offset) {
  switch (format) {
    case 'hl7v2-adt':
      return Buffer.from(people.map(adt).join(''), 'utf8');
    case 'service-plan':
      return Buffer.from(JSON.stringify({ plans: people.map((p) => servicePlan(p)) }));
    case 'evv-csv':
      return Buffer.from([EVV_HEADER, ...people.map((p, i) => evvRow(p, offset + i))].join('\r\n') + '\r\n');
    case 'crisis-update':
      return Buffer.from(JSON.stringify({ updates: people.map(crisisUpdate) }));
    case 'hmis-csv':
      return hmisZip(people);
    case 'fhir-message':
      return Buffer.from(JSON.stringify(fhirMessage(people[0], SENDER['fhir-message'])));
    case 'fhir-transaction':
      return Buffer.from(JSON.stringify(fhirTransaction(people[0])));
    default:
      throw new Error(`no generator for ${format}`);
  }
}
