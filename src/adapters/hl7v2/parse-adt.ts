import { Message, type HL7Node } from 'node-hl7-client';
import type { FieldIssue, ParsedRecord, ParseResult, RejectedRecord } from '../types.js';
import { parseHl7DateTime } from './hl7-datetime.js';
import { decodeHl7Bytes, readHeader, splitMessages } from './normalize.js';
import {
  ADT_TRIGGERS,
  MERGE_TRIGGERS,
  PERSON_TRIGGERS,
  type AdtAddress,
  type AdtIdentifier,
  type AdtLocation,
  type AdtMessage,
  type AdtName,
  type AdtPatient,
  type AdtStaff,
  type AdtTelecom,
  type AdtTrigger,
  type AdtVisit,
  type Hl7DateTime,
} from './types.js';

/** HL7 table 0001 (administrative sex) to FHIR AdministrativeGender. */
const GENDER: Readonly<Record<string, AdtPatient['gender']>> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other', // ambiguous
  X: 'other', // non-binary (v2.9)
  U: 'unknown',
  N: 'unknown', // not applicable
};

/**
 * Parses and validates a body of one or more HL7 v2 ADT messages (each starting at MSH). Every
 * message ends up accepted or rejected with field-level issues (`MSH-9`, `PID-3`, `PV1-44`);
 * one bad message never sinks the others. Text before the first MSH is rejected too.
 *
 * Accepted: the ADT triggers of {@link ADT_TRIGGERS} with MSH-10, MSH-12, PID-3 and valid
 * timestamps; a PV1 with PV1-2 except for A08 (which may update demographics only) and the
 * person-level A28 and A31 (whose PV1, often sent empty, is not read).
 */
export function parseAdtBatch(input: string | Buffer): ParseResult<AdtMessage> {
  const text = typeof input === 'string' ? input : decodeHl7Bytes(input);
  const batch = splitMessages(text);
  const accepted: Array<ParsedRecord<AdtMessage>> = [];
  const rejected: RejectedRecord[] = [];
  if (batch.leading !== undefined) {
    rejected.push({
      location: 'text before message 1',
      issues: [{ field: 'MSH', message: 'text before the first MSH segment is not an HL7 message' }],
      raw: batch.leading,
    });
  }
  if (batch.messages.length === 0 && batch.leading === undefined) {
    rejected.push({ location: 'body', issues: [{ field: 'MSH', message: 'the body holds no HL7 message' }] });
  }
  for (const { index, text: message } of batch.messages) {
    const result = parseOne(message, index);
    if ('record' in result) {
      accepted.push(result);
    } else {
      rejected.push(result);
    }
  }
  return { accepted, rejected };
}

function parseOne(raw: string, index: number): ParsedRecord<AdtMessage> | RejectedRecord {
  const header = readHeader(raw);
  const reject = (issues: FieldIssue[], controlId?: string): RejectedRecord => ({
    location: controlId ? `message ${index} (MSH-10 ${controlId})` : `message ${index}`,
    ...(controlId ? { sourceId: controlId } : {}),
    issues,
    raw,
  });
  if (header.problem) {
    return reject([header.problem]);
  }
  try {
    const fields = new MessageFields(new Message({ text: header.text }));
    const controlId = fields.value('MSH', 10);
    const issues: FieldIssue[] = [];
    const trigger = readTrigger(fields, issues);
    if (trigger === undefined) {
      return reject(issues, controlId || undefined); // unsupported: the rest does not matter
    }
    if (!controlId) {
      issues.push({ field: 'MSH-10', message: 'message control id is required' });
    }
    const version = fields.value('MSH', 12);
    if (!version) {
      issues.push({ field: 'MSH-12', message: 'version id is required' });
    } else if (!/^2\.\d+(\.\d+)?$/.test(version)) {
      issues.push({ field: 'MSH-12', message: `version "${version}" is not an HL7 v2 version` });
    }
    const times = new TimeReader(issues);
    const messageTime = times.read('MSH-7', fields.value('MSH', 7));
    const recorded = times.read('EVN-2', fields.value('EVN', 2));
    const eventTime = recorded ?? messageTime;
    if (eventTime === undefined && !issues.some((i) => i.field === 'MSH-7' || i.field === 'EVN-2')) {
      issues.push({ field: 'MSH-7', message: 'date/time of message is required when EVN-2 is empty' });
    }
    const patient = readPatient(fields, times, issues);
    const visit = readVisit(fields, times, trigger, issues);
    const merged = MERGE_TRIGGERS.has(trigger) ? readMerged(fields, issues) : undefined;
    if (issues.length > 0 || eventTime === undefined || patient === undefined) {
      return reject(issues, controlId || undefined);
    }
    const sendingApplication = fields.value('MSH', 3) || fields.value('MSH', 3, 2);
    const sendingFacility = fields.value('MSH', 4) || fields.value('MSH', 4, 2);
    const record: AdtMessage = {
      controlId,
      trigger,
      version,
      ...(sendingApplication ? { sendingApplication } : {}),
      ...(sendingFacility ? { sendingFacility } : {}),
      ...(messageTime ? { messageTime } : {}),
      eventTime,
      patient,
      ...(visit ? { visit } : {}),
      ...(merged ? { merged } : {}),
      raw,
    };
    return { location: `message ${index} (MSH-10 ${controlId})`, sourceId: controlId, record };
  } catch (err) {
    // The parser throws on some malformed input; that message is rejected, never the batch.
    return reject([{ field: 'MSH', message: `not parseable as HL7 v2: ${(err as Error).message}` }]);
  }
}

function readTrigger(fields: MessageFields, issues: FieldIssue[]): AdtTrigger | undefined {
  const type = fields.value('MSH', 9);
  // Some v2.1/2.2 senders put the trigger only in EVN-1.
  const trigger = fields.value('MSH', 9, 2) || fields.value('EVN', 1);
  if (!type) {
    issues.push({ field: 'MSH-9', message: 'message type is required' });
  } else if (type !== 'ADT') {
    issues.push({ field: 'MSH-9', message: `message type ${type} not supported (only ADT)` });
  } else if (!(ADT_TRIGGERS as readonly string[]).includes(trigger)) {
    const name = trigger ? `trigger ${trigger}` : 'a message without a trigger event';
    issues.push({ field: 'MSH-9', message: `${name} not supported (supported: ${ADT_TRIGGERS.join(', ')})` });
  } else {
    return trigger as AdtTrigger;
  }
  return undefined;
}

/** One CX identifier (PID-3, MRG-1): id, assigning authority, type code; none when it has no id. */
function readCx(rep: HL7Node): AdtIdentifier[] {
  const id = component(rep, 1);
  const assigningAuthority = component(rep, 4) || component(rep, 4, 2);
  const typeCode = component(rep, 5);
  return id ? [{ id, ...opt({ assigningAuthority, typeCode }) }] : [];
}

/** MRG-1, the identifiers of the record merged away (MRG-4, its v2.3 single form, as a fallback). */
function readMerged(fields: MessageFields, issues: FieldIssue[]): AdtIdentifier[] {
  const merged = [...fields.repetitions('MRG', 1), ...fields.repetitions('MRG', 4)].flatMap(readCx);
  if (merged.length === 0) {
    issues.push({ field: 'MRG-1', message: 'a merge must name the merged record (MRG-1)' });
  }
  return merged;
}

function readPatient(fields: MessageFields, times: TimeReader, issues: FieldIssue[]): AdtPatient | undefined {
  if (!fields.has('PID')) {
    issues.push({ field: 'PID', message: 'segment PID is required' });
    return undefined;
  }
  const identifiers = fields.repetitions('PID', 3).flatMap(readCx);
  if (identifiers.length === 0) {
    issues.push({ field: 'PID-3', message: 'at least one patient identifier (PID-3.1) is required' });
  }
  // Table 0001 is user-defined before v2.7: a local code is kept for the partner's translation.
  const administrativeSex = fields.value('PID', 8);
  const gender = GENDER[administrativeSex.toUpperCase()];
  const birthDate = times.read('PID-7', fields.value('PID', 7));
  return {
    identifiers,
    names: fields.repetitions('PID', 5).flatMap(readName),
    ...opt({ birthDate, gender, administrativeSex }),
    addresses: fields.repetitions('PID', 11).flatMap(readAddress),
    telecom: [
      ...fields.repetitions('PID', 13).flatMap((rep) => readTelecom(rep, 'home')),
      ...fields.repetitions('PID', 14).flatMap((rep) => readTelecom(rep, 'work')),
    ],
  };
}

function readVisit(
  fields: MessageFields,
  times: TimeReader,
  trigger: AdtTrigger,
  issues: FieldIssue[],
): AdtVisit | undefined {
  if (PERSON_TRIGGERS.has(trigger)) {
    return undefined;
  }
  if (!fields.hasContent('PV1')) {
    if (trigger !== 'A08') {
      issues.push({ field: 'PV1', message: `segment PV1 with the visit is required for ADT^${trigger}` });
    }
    return undefined;
  }
  const patientClass = fields.value('PV1', 2);
  if (!patientClass) {
    issues.push({ field: 'PV1-2', message: 'patient class is required' });
  }
  const location = fields.repetitions('PV1', 3)[0];
  const assignedLocation: AdtLocation = opt({
    pointOfCare: component(location, 1),
    room: component(location, 2),
    bed: component(location, 3),
    facility: component(location, 4) || component(location, 4, 2),
  });
  const admitTime = times.read('PV1-44', fields.value('PV1', 44));
  const dischargeTime = times.read('PV1-45', fields.value('PV1', 45));
  return {
    patientClass,
    ...opt({ visitNumber: fields.value('PV1', 19) }),
    ...(Object.keys(assignedLocation).length > 0 ? { assignedLocation } : {}),
    attending: fields.repetitions('PV1', 7).flatMap(readStaff),
    ...opt({ admitTime, dischargeTime, dischargeDisposition: fields.value('PV1', 36) }),
  };
}

function readName(rep: HL7Node): AdtName[] {
  const family = component(rep, 1);
  const given = [component(rep, 2), component(rep, 3)].filter((g) => g !== '');
  if (!family && given.length === 0) {
    return [];
  }
  return [
    {
      given,
      ...opt({ family, suffix: component(rep, 4), prefix: component(rep, 5), typeCode: component(rep, 7) }),
    },
  ];
}

function readAddress(rep: HL7Node): AdtAddress[] {
  const address: AdtAddress = {
    lines: [component(rep, 1), component(rep, 2)].filter((l) => l !== ''),
    ...opt({
      city: component(rep, 3),
      state: component(rep, 4),
      postalCode: component(rep, 5),
      country: component(rep, 6),
      typeCode: component(rep, 7),
    }),
  };
  const { typeCode: _type, lines, ...parts } = address;
  return lines.length > 0 || Object.keys(parts).length > 0 ? [address] : [];
}

function readTelecom(rep: HL7Node, fieldUse: 'home' | 'work'): AdtTelecom[] {
  const useCode = component(rep, 2);
  const equipment = component(rep, 3);
  const email = component(rep, 4);
  if (useCode === 'NET' || equipment === 'Internet' || equipment === 'X.400') {
    const value = email || component(rep, 1);
    return value ? [{ system: 'email', value, use: fieldUse }] : [];
  }
  const area = component(rep, 6);
  const local = component(rep, 7);
  const extension = component(rep, 8);
  const structured = local ? `${area ? `(${area}) ` : ''}${local}${extension ? ` x${extension}` : ''}` : '';
  const value = component(rep, 1) || structured || component(rep, 12);
  const use = equipment === 'CP' ? 'mobile' : useCode === 'WPN' ? 'work' : fieldUse;
  const found: AdtTelecom[] = value ? [{ system: 'phone', value, use }] : [];
  return email ? [...found, { system: 'email', value: email, use: fieldUse }] : found;
}

function readStaff(rep: HL7Node): AdtStaff[] {
  const staff: AdtStaff = {
    given: [component(rep, 3), component(rep, 4)].filter((g) => g !== ''),
    ...opt({
      id: component(rep, 1),
      family: component(rep, 2),
      suffix: component(rep, 5),
      prefix: component(rep, 6),
      assigningAuthority: component(rep, 9),
    }),
  };
  return staff.id || staff.family || staff.given.length > 0 ? [staff] : [];
}

/** Reads timestamps, collecting an issue per invalid one. */
class TimeReader {
  constructor(private readonly issues: FieldIssue[]) {}

  read(field: string, text: string): Hl7DateTime | undefined {
    if (!text) {
      return undefined;
    }
    const parsed = parseHl7DateTime(text);
    if ('error' in parsed) {
      this.issues.push({ field, message: `invalid date/time: ${parsed.error}` });
      return undefined;
    }
    return parsed.value;
  }
}

/**
 * Field access on the parsed message, numbered as in the HL7 spec (`PID-3` is field 3 of PID).
 * Values are decoded (escape sequences resolved) and trimmed; absent parts read as `''`.
 */
class MessageFields {
  private readonly segments: HL7Node[];

  constructor(message: Message) {
    this.segments = message.toArray();
  }

  has(segment: string): boolean {
    return this.first(segment) !== undefined;
  }

  /** Whether the first such segment holds any value after its set id (PV1 may be all `^`). */
  hasContent(segment: string): boolean {
    const seg = this.first(segment);
    const hasValue = (field: HL7Node): boolean =>
      field
        .toArray()
        .some((rep) => rep.toArray().some((c) => c.toArray().some((s) => s.toString().trim() !== '')));
    return seg !== undefined && seg.toArray().slice(2).some(hasValue);
  }

  repetitions(segment: string, field: number): HL7Node[] {
    const seg = this.first(segment);
    // MSH-1 is the field separator itself, so MSH field n is the parser's child n-1.
    const node = seg?.toArray()[segment === 'MSH' ? field - 1 : field];
    return node?.toArray() ?? [];
  }

  /** Component `comp` (subcomponent `sub`) of the first repetition. */
  value(segment: string, field: number, comp = 1, sub = 1): string {
    return component(this.repetitions(segment, field)[0], comp, sub);
  }

  private first(segment: string): HL7Node | undefined {
    return this.segments.find((s) => s.name === segment);
  }
}

function component(rep: HL7Node | undefined, comp: number, sub = 1): string {
  return rep?.toArray()[comp - 1]?.toArray()[sub - 1]?.toString().trim() ?? '';
}

/** The entries whose value is not empty (optional properties stay absent, not `''`). */
function opt<T extends Record<string, string | undefined>>(
  values: T,
): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== '')) as {
    [K in keyof T]?: NonNullable<T[K]>;
  };
}
