import type { FhirResource, Identifier, Patient, Period, Reference } from 'fhir/r4.js';
import type { PartnerConfig } from '../config/partners.js';

/** What a mapper may know besides the record: no clock, no random ids, no I/O (house style 2). */
export interface MappingContext {
  readonly partner: PartnerConfig;
  /** Base of identifier systems, e.g. `https://carecoord.example.org`. */
  readonly identifierBase: string;
}

/**
 * Placeholder reference to the participant a record is about. Mappers write
 * `{ reference: PARTICIPANT_REF }`; the ingest writer swaps it for the resolved `Patient/<id>`.
 */
export const PARTICIPANT_REF = 'urn:hub:participant';

/**
 * One resource to write idempotently, kept by `identifier` (which the resource carries): the
 * writer creates it while no resource holds the identifier and writes over the one that does, so
 * the same source record written twice yields one resource. `fullUrl` (a `urn:uuid:` derived
 * from the identifier) lets other resources of the same record refer to it.
 */
export interface ResourceWrite {
  readonly fullUrl: string;
  readonly identifier: Identifier;
  readonly resource: FhirResource;
  /**
   * The hub version (`meta.versionId` on the hub's FHIR server) the partner edited, when it says
   * so (in a FHIR message: the CarePlan's `meta.versionId`). For a CarePlan the writer then
   * never overwrites a newer version blindly: it writes only while the stored version is still
   * this one, otherwise it merges both edits or refuses the record naming the conflicting
   * elements. Without it the write is a plain write by identifier (last writer wins).
   */
  readonly baseVersion?: string;
  /**
   * When the source says this state was true (an HL7 event time, an HMIS DateUpdated), with an
   * offset. The writer never lets it overwrite a state the server holds from a later time.
   */
  readonly sourceTime?: string;
  /**
   * The sender's own version number of the record (a service plan's `planVersion`): the writer
   * never lets it overwrite a higher version the server holds.
   */
  readonly sourceVersion?: number;
}

/** Something that happened which the hub's rules act on after the record is written. */
export type HubEvent =
  | { readonly type: 'admission'; readonly at: string; readonly encounter: string }
  | { readonly type: 'discharge'; readonly at: string; readonly encounter: string }
  | { readonly type: 'admission-cancelled'; readonly at: string; readonly encounter: string }
  | { readonly type: 'discharge-cancelled'; readonly at: string; readonly encounter: string }
  | { readonly type: 'missed-visit'; readonly at: string; readonly flag: string; readonly task: string }
  | {
      readonly type: 'plan-change-trigger';
      readonly at: string;
      readonly trigger: string;
      readonly focus: string;
    }
  | {
      readonly type: 'crisis-update';
      readonly at: string;
      readonly communication: string;
      readonly thresholds: string[];
      /** The named supervisor responsible for the next stabilization update. */
      readonly supervisor: Reference;
      readonly nextReviewAt: string;
      /** A temporary support increase, when the update reports one. */
      readonly support?: {
        readonly summary: string;
        readonly exceedsAuthorizedScope: boolean;
        /** The end of its expected review date: past it, the case manager must review it. */
        readonly reviewBy: string;
      };
    }
  | { readonly type: 'service-plan'; readonly at: string; readonly carePlan: string };

/** A record mapped to FHIR: who it is about, what to write, and what happened. */
export interface MappedRecord {
  readonly participant: {
    /**
     * Every identifier of the participant the record carries (partner-local ids, and shared ones
     * such as Medicaid ID or HMIS PersonalID). The hub links on these, never on names.
     */
    readonly identifiers: readonly Identifier[];
    /** Demographics to create the Patient with, or to add to it (name, birth date, ...). */
    readonly demographics?: Patient;
    /**
     * A merge (HL7 A40): the identifiers of another record of the same person, whose Patient the
     * writer retires into this participant (docs/architecture.md, "Merges").
     */
    readonly merged?: readonly Identifier[];
  };
  readonly writes: readonly ResourceWrite[];
  /**
   * Members the record puts on the participant's one shared CareTeam (e.g. the housing program
   * as housing navigator). The writer merges them into that CareTeam; mappers never write it.
   */
  readonly careTeamMembers?: readonly CareTeamMember[];
  readonly events: readonly HubEvent[];
  /**
   * The writes are one state of one source record (an ADT message, an HMIS client, a plan
   * version): when the server holds a later state of any of them, none of the dated ones is
   * written and the record's events are not acted on. Without it each write is ordered alone.
   */
  readonly orderedAsOne?: boolean;
  /**
   * The writes carry relative references as the sender sent them (FHIR input): the writer keeps
   * those the shared server holds and makes the others logical (ingest/ground-references.ts).
   * Other mappers build every reference themselves and leave this unset.
   */
  readonly sendersReferences?: boolean;
}

/** A member of the shared CareTeam, in the role given by a hub care-team-role code. */
export interface CareTeamMember {
  /** Code from the hub care-team-role CodeSystem, e.g. `housing-navigator`. */
  readonly role: string;
  /** The agency (`Organization/<partnerId>`) or a named person (display, identifier). */
  readonly member: Reference;
  readonly period?: Period;
}
