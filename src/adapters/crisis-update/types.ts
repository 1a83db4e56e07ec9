/**
 * Events that make a case-manager update required (operating rule 8, README; "communication
 * thresholds").
 */
export const CRISIS_THRESHOLDS = [
  'ed-visit',
  'mobile-crisis',
  'police-ems',
  'self-harm-risk',
  'injury',
  'medication-disruption',
  'repeated-escalation',
  'major-family-concern',
  'temporary-support-increase',
] as const;
export type CrisisThreshold = (typeof CRISIS_THRESHOLDS)[number];

/** A named person: who wrote the update, or who sends the next one. */
export interface CrisisPerson {
  readonly name: string;
  readonly role: string;
  /** Phone or e-mail. */
  readonly contact?: string;
  /** The partner's staff id, when it has one. */
  readonly staffId?: string;
}

/**
 * A crisis stabilization update as a provider sends it to the case manager. Every field up to
 * `nextUpdateSupervisor` is required (operating rule 8, README): an update without them is refused.
 * Date-times carry a UTC offset.
 */
export interface CrisisUpdate {
  readonly updateId: string;
  readonly participant: { readonly medicaidId?: string; readonly memberId?: string };
  readonly author: { readonly name: string; readonly role?: string };
  readonly eventDateTime: string;
  readonly presentingRisk: string;
  readonly immediateResponse: string;
  readonly currentPresentation: string;
  readonly temporarySupportChanges: string;
  /** Whether and how family or natural supports were contacted, and their concerns. */
  readonly familyContact: string;
  readonly nextReviewAt: string;
  /** The named supervisor responsible for sending the next stabilization update. */
  readonly nextUpdateSupervisor: CrisisPerson;
  readonly thresholdsCrossed?: readonly CrisisThreshold[];
  readonly temporarySupportIncrease?: TemporarySupportIncrease;
}

/** A temporary increase in support (operating rule 9, README); every field is required when it is sent. */
export interface TemporarySupportIncrease {
  readonly supportIncrease: string;
  readonly reason: string;
  /** `YYYY-MM-DD`. */
  readonly startDate: string;
  /** `YYYY-MM-DD`. */
  readonly expectedReviewDate: string;
  readonly outcomeIndicators: readonly string[];
  readonly staffingImpact: string;
  readonly caseManagerNotifiedAt: string;
  /** What evidence will allow support to step down. */
  readonly stepDownEvidence: readonly string[];
  /** True when the support goes beyond the provider's authorized scope: authorization review. */
  readonly exceedsAuthorizedScope: boolean;
}
