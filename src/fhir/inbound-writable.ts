/**
 * The clinical and coordination resources an inbound record may write (the write boundary,
 * security/write-boundary.ts, enforces it). FHIR adapters skip every other type a partner sends
 * (reported per entry), so a Bundle carrying claims or practitioners is not refused for them.
 */
export const INBOUND_WRITABLE: ReadonlySet<string> = new Set([
  'AllergyIntolerance',
  'Appointment',
  'CarePlan',
  'ClaimResponse',
  'Communication',
  'Condition',
  'DocumentReference',
  'Encounter',
  'EpisodeOfCare',
  'Flag',
  'Goal',
  'MedicationRequest',
  'MedicationStatement',
  'Observation',
  'Procedure',
  'QuestionnaireResponse',
  'ServiceRequest',
  'Task',
]);

/**
 * Resources only the hub writes on the shared server (the shared CareTeam, Consents, Provenance,
 * audit records, subscriptions, the agencies' Organizations). One sent by a partner is not applied,
 * and the sender is warned: a Consent or CareTeam it meant to record was not recorded.
 */
export const HUB_OWNED: ReadonlySet<string> = new Set([
  'AuditEvent',
  'CareTeam',
  'Consent',
  'Organization',
  'Provenance',
  'Subscription',
]);
