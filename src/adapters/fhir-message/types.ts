/** The records the FHIR adapters (messages, transactions, batches) hand to the FHIR mapper. */

/** Events a partner may announce in `MessageHeader.eventCoding` (hub CodeSystem `hub-message-event`). */
export const MESSAGE_EVENTS = [
  'careplan-update',
  'careteam-update',
  'task-update',
  'communication',
  'encounter-admit',
  'encounter-discharge',
] as const;
export type MessageEvent = (typeof MESSAGE_EVENTS)[number];

/** A FHIR message Bundle as the adapter validated it. Kept as plain JSON: it is FHIR already. */
export interface FhirMessageRecord {
  readonly messageId: string;
  readonly event: MessageEvent;
  /** `MessageHeader.sender.reference`, if any (checked against the sending partner upstream). */
  readonly sender?: string;
  /** The Bundle's entries other than the MessageHeader. */
  readonly entries: readonly FhirEntry[];
  /**
   * What references may name but the record does not write (entries the hub skips), by the keys
   * they were named with: kept as logical references (README, "FHIR transactions and batches").
   */
  readonly outside?: Readonly<Record<string, OutsideTarget>>;
  /** `Patient/<id>` of the sender, when the record carries no Patient but refers to one. */
  readonly participant?: string;
}

/** One resource to write, as sent. */
export interface FhirEntry {
  readonly fullUrl?: string;
  readonly resource: JsonResource;
  /** The sender's logical id (PUT Type/id, urn:uuid) when the resource has no identifier. */
  readonly identity?: string;
  /** Its place in the Bundle the sender sent, for the per-entry answer to a transaction or batch. */
  readonly index?: number;
}

/** A resource named by reference but not written: how the reference is kept. */
export interface OutsideTarget {
  readonly resourceType: string;
  readonly identifier?: { readonly system: string; readonly value: string };
  /** The sender's logical id, when it has no identifier. */
  readonly identity?: string;
}

/** A resource as JSON: the adapter checks structure, the FHIR server checks content. */
export interface JsonResource {
  readonly resourceType: string;
  readonly id?: string;
  readonly identifier?: ReadonlyArray<{ readonly system?: string; readonly value?: string }>;
  readonly [key: string]: unknown;
}
