import type { CareTeam, FhirResource, Reference } from 'fhir/r4.js';

/** The participant a resource is about: the Patient itself, or its subject / for / patient. */
export function participantOf(resource: FhirResource): string | undefined {
  if (resource.resourceType === 'Patient') {
    return `Patient/${resource.id}`;
  }
  const r = resource as unknown as Record<string, Reference | undefined>;
  const ref = [r.subject, r.for, r.patient, r.beneficiary].find((x) => x?.reference?.startsWith('Patient/'));
  return ref?.reference?.split('/_history/')[0];
}

/** Whether a partner is on the participant's shared CareTeam (as a member or on behalf of one). */
export function isOnCareTeam(team: CareTeam | undefined, partnerId: string): boolean {
  const org = `Organization/${partnerId}`;
  return (team?.participant ?? []).some(
    (p) => p.member?.reference === org || p.onBehalfOf?.reference === org,
  );
}
