import type { ParseResult } from '../adapters/types.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig } from '../config/partners.js';
import type { MappedRecord, MappingContext } from '../mappers/types.js';

/** How the hub reads one inbound format: the adapter that parses a body, the mapper for one record. */
export interface FormatHandler<T = unknown> {
  /** Content types the HTTP ingest endpoint accepts for this format. */
  readonly contentTypes: readonly string[];
  parse(body: Buffer, partner: PartnerConfig): ParseResult<T>;
  /** Read on a thread of its own (a batch can take seconds to read: see ingest/parse-off-thread.ts). */
  readonly offThread?: boolean;
  map(record: T, ctx: MappingContext): MappedRecord;
  /**
   * Where each entry of a request Bundle is written (entry index -> the fullUrl the mapper gives
   * its write), for formats answered entry by entry: FHIR transactions and batches.
   */
  locate?(record: T, ctx: MappingContext): Readonly<Record<number, string>>;
}

/** Formats handled through adapters and mappers, by name. */
export type FormatHandlers = Partial<Record<InboundFormat, FormatHandler>>;

/** Wraps a typed handler for the registry (records travel through Redis as JSON). */
export function handler<T>(h: FormatHandler<T>): FormatHandler {
  return h;
}
