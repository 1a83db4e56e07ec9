/**
 * The typed record of one HL7 v2 ADT message, as the adapter hands it to the mapper. Plain data
 * (it travels through Redis as JSON): no FHIR types, no parser objects.
 *
 * @see https://www.hl7.org/implement/standards/product_brief.cfm?product_id=185 (HL7 v2.x, chapter 3: ADT)
 */

/**
 * The ADT trigger events the hub handles: visits (admit, transfer, discharge, register, pre-admit,
 * changes of patient class, update, cancellations) and the person-level events that carry no visit
 * (add and update person information).
 */
export const ADT_TRIGGERS = [
  'A01',
  'A02',
  'A03',
  'A04',
  'A05',
  'A06',
  'A07',
  'A08',
  'A11',
  'A13',
  'A16',
  'A28',
  'A31',
  'A34',
  'A40',
] as const;
export type AdtTrigger = (typeof ADT_TRIGGERS)[number];

/** Triggers about the person, not a visit: a PV1 they carry (often empty) is not read. */
export const PERSON_TRIGGERS: ReadonlySet<AdtTrigger> = new Set(['A28', 'A31', 'A34', 'A40']);

/**
 * Merges: the person of PID absorbs the record MRG-1 names (A40, "merge patient - patient
 * identifier list"; A34, its older form).
 */
export const MERGE_TRIGGERS: ReadonlySet<AdtTrigger> = new Set(['A34', 'A40']);

/**
 * An HL7 TS/DTM value in ISO 8601, at the precision it was sent (`2024`, `2024-03`, `2024-03-01`,
 * `2024-03-01T10:15:00`, `2024-03-01T10:15:30.25`). A value sent with an offset keeps it
 * (`2024-03-01T10:15:00-05:00`). A value with a time but no offset is a local date-time of the
 * sender's clock and is kept WITHOUT an offset: the mapper places it in the partner's zone
 * (`fieldOverrides['hl7.timezone']`, default UTC), since only the partner config knows it.
 * Times always carry seconds (`HHMM` becomes `HH:MM:00`), as FHIR dateTime requires.
 */
export type Hl7DateTime = string;

/** One patient identifier (CX) of PID-3. */
export interface AdtIdentifier {
  /** PID-3.1 */
  readonly id: string;
  /** PID-3.4 (HD namespace id, else its universal id) */
  readonly assigningAuthority?: string;
  /** PID-3.5, HL7 table 0203 (`MR`, `MA`, `SS`, ...) */
  readonly typeCode?: string;
}

/** A person's name (XPN). */
export interface AdtName {
  readonly family?: string;
  /** Given name (component 2) then second given names (component 3). */
  readonly given: readonly string[];
  readonly prefix?: string;
  readonly suffix?: string;
  /** Name type code, HL7 table 0200 (`L` legal, `D` display, `M` maiden, ...). */
  readonly typeCode?: string;
}

/** An address (XAD). */
export interface AdtAddress {
  /** Street address and other designation. */
  readonly lines: readonly string[];
  readonly city?: string;
  readonly state?: string;
  readonly postalCode?: string;
  readonly country?: string;
  /** Address type, HL7 table 0190 (`H` home, `B` business, `M` mailing, `C` current, ...). */
  readonly typeCode?: string;
}

/** A phone number or e-mail address (XTN) from PID-13 (home) or PID-14 (business). */
export interface AdtTelecom {
  readonly system: 'phone' | 'email';
  readonly value: string;
  /** `home` for PID-13, `work` for PID-14, `mobile` for equipment type `CP`. */
  readonly use: 'home' | 'work' | 'mobile';
}

/** A staff member (XCN), e.g. the attending doctor. */
export interface AdtStaff {
  readonly id?: string;
  readonly family?: string;
  readonly given: readonly string[];
  readonly prefix?: string;
  readonly suffix?: string;
  readonly assigningAuthority?: string;
}

/** A location (PL): point of care, room, bed, facility. */
export interface AdtLocation {
  readonly pointOfCare?: string;
  readonly room?: string;
  readonly bed?: string;
  readonly facility?: string;
}

/** The patient (PID). */
export interface AdtPatient {
  /** PID-3; never empty. */
  readonly identifiers: readonly AdtIdentifier[];
  /** PID-5 */
  readonly names: readonly AdtName[];
  /** PID-7 */
  readonly birthDate?: Hl7DateTime;
  /** PID-8 administrative sex as sent. */
  readonly administrativeSex?: string;
  /**
   * PID-8 as a FHIR AdministrativeGender code when it is a code of HL7 table 0001 (M, F, O, U, A,
   * N, X); a local code is left to the mapper's partner translation.
   */
  readonly gender?: 'male' | 'female' | 'other' | 'unknown';
  /** PID-11 */
  readonly addresses: readonly AdtAddress[];
  /** PID-13 and PID-14 */
  readonly telecom: readonly AdtTelecom[];
}

/** The visit (PV1). Present when PV1 holds any value. */
export interface AdtVisit {
  /** PV1-19.1 */
  readonly visitNumber?: string;
  /** PV1-2, HL7 table 0004 (`I`, `O`, `E`, `P`, `R`, `B`, ...) as sent. */
  readonly patientClass: string;
  /** PV1-3 */
  readonly assignedLocation?: AdtLocation;
  /** PV1-7 (repeats) */
  readonly attending: readonly AdtStaff[];
  /** PV1-44 */
  readonly admitTime?: Hl7DateTime;
  /** PV1-45 (the first, where it repeats) */
  readonly dischargeTime?: Hl7DateTime;
  /** PV1-36, HL7 table 0112, as sent. */
  readonly dischargeDisposition?: string;
}

/** One accepted ADT message. */
export interface AdtMessage {
  /** MSH-10 */
  readonly controlId: string;
  /** MSH-9.2 (EVN-1 when MSH-9 carries no trigger, as some v2.1/2.2 senders do) */
  readonly trigger: AdtTrigger;
  /** MSH-12.1, e.g. `2.3.1` */
  readonly version: string;
  /** MSH-3 */
  readonly sendingApplication?: string;
  /** MSH-4 */
  readonly sendingFacility?: string;
  /** MSH-7 */
  readonly messageTime?: Hl7DateTime;
  /** When the event was recorded: EVN-2, else MSH-7. */
  readonly eventTime: Hl7DateTime;
  readonly patient: AdtPatient;
  /** Absent when the message has no PV1 or an empty one (allowed for A08 only). */
  readonly visit?: AdtVisit;
  /** A merge (A34, A40): the identifiers of the record merged into the PID's (MRG-1). */
  readonly merged?: readonly AdtIdentifier[];
  /**
   * The message as received, segments separated by `\r` (line endings, a BOM and trailing
   * spaces normalised), for replay.
   */
  readonly raw: string;
}
