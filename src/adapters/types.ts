/**
 * Contracts between adapters (bytes -> typed records) and the rest of the hub. Adapters never
 * import FHIR types and do no I/O: they take what arrived and say, per record, either "here is
 * the typed record" or "this record is rejected, because of these fields".
 */

/** One problem with one field of one record. */
export interface FieldIssue {
  /**
   * The field, in the format's own terms: `PID-3`, `Client.csv:DOB`, `/goals/0/description`,
   * `row 7:ScheduledStart`.
   */
  readonly field: string;
  readonly message: string;
}

/** A record the adapter could read and validate. */
export interface ParsedRecord<T> {
  /** Where it sits in the batch, for people: `row 7 of Client.csv`, `message 2 (MSH-10 ABC123)`. */
  readonly location: string;
  /** The partner's own stable id of the record (MSH-10, PersonalID, plan id, visit id, ...). */
  readonly sourceId: string;
  readonly record: T;
  /** The request Bundle entries it stands for, by index (FHIR transactions and batches). */
  readonly entries?: readonly number[];
}

/** A record the adapter refused, with every reason; kept so an engineer can fix and replay it. */
export interface RejectedRecord {
  readonly location: string;
  readonly sourceId?: string;
  readonly issues: readonly FieldIssue[];
  /** The record as received (one HL7 message, one CSV row, one JSON object), for replay. */
  readonly raw?: string;
  /** The request Bundle entries it stands for, by index (FHIR transactions and batches). */
  readonly entries?: readonly number[];
}

/**
 * A record the source itself marked as not to be applied (e.g. an HMIS row with DateDeleted):
 * nothing to write and nothing to fix, but reported, so it does not vanish silently.
 */
export interface SkippedRecord {
  readonly location: string;
  readonly sourceId?: string;
  readonly reason: string;
  /** The sender asked for something the hub will not do (a warning, not information). */
  readonly warning?: boolean;
  /** The request Bundle entries it stands for, by index (FHIR transactions and batches). */
  readonly entries?: readonly number[];
}

/** What an adapter returns for a batch: valid records go on even when others are rejected. */
export interface ParseResult<T> {
  readonly accepted: ReadonlyArray<ParsedRecord<T>>;
  readonly rejected: readonly RejectedRecord[];
  readonly skipped?: readonly SkippedRecord[];
}
