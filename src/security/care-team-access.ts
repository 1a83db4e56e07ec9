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

/**
 * Whether a partner is on the participant's shared CareTeam at `at` (as a member or on behalf of
 * one): the team active (or with no status), the membership's period including `at`. A partner
 * whose membership staff ended, or that left, reads nothing more.
 */
export function isOnCareTeam(team: CareTeam | undefined, partnerId: string, at: Date): boolean {
  const org = `Organization/${partnerId}`;
  if (!team || (team.status !== undefined && team.status !== 'active')) {
    return false;
  }
  const t = at.getTime();
  return (team.participant ?? []).some(
    (p) =>
      (p.member?.reference === org || p.onBehalfOf?.reference === org) &&
      (!p.period?.start || Date.parse(p.period.start) <= t) &&
      (!p.period?.end || t <= endOf(p.period.end)),
  );
}

/** The last instant a period's end covers: a date alone (`2026-12-01`) covers that whole day. */
function endOf(end: string): number {
  return end.length === 10 ? Date.parse(end) + 24 * 3600_000 - 1 : Date.parse(end);
}
