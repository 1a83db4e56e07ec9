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

/**
 * Whether an inbound record may write a resource of `type`: what the hub coordinates always; any
 * other type except what only the hub writes when the sender's file says `uncoordinated: store`.
 * The Patient is never written from a record: it is linked (ingest/participant-resolver.ts).
 */
export function mayWrite(type: string, storesUncoordinated: boolean): boolean {
  return INBOUND_WRITABLE.has(type) || (storesUncoordinated && type !== 'Patient' && !HUB_OWNED.has(type));
}
