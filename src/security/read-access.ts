import type { CareTeam, Consent, FhirResource, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { sharedCareTeam } from '../fhir/shared-care-team.js';
import { isOnCareTeam, participantOf } from './care-team-access.js';
import { consentPermits, isPart2 } from './part2.js';

export interface ReadAccessDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly now: () => Date;
}

/** Whether a partner may see a resource, and if not why; `patient` is who it is about. */
export type ReadDecision =
  { readonly allowed: true; readonly patient: string } | { readonly allowed: false; readonly reason: string };

/**
 * The one read rule for partners: a resource about a participant whose shared care team the
 * partner is on, and, for 42 CFR Part 2 content, only while an active Consent names the partner.
 * Every partner-facing read (`/fhir/<type>/<id>`, delivery status) asks this.
 */
export async function partnerMayRead(
  deps: ReadAccessDeps,
  partnerId: string,
  resource: FhirResource,
  what: string,
): Promise<ReadDecision> {
  const patient = participantOf(resource);
  const team = patient
    ? await sharedCareTeam(deps.fhir, deps.identifierBase, patient.split('/')[1]!)
    : undefined;
  if (!patient || !isOnCareTeam(team, partnerId, deps.now())) {
    return {
      allowed: false,
      reason: `${partnerId} is not on the care team of the participant ${what} is about`,
    };
  }
  return part2Gate(deps, partnerId, resource, patient, what);
}

/**
 * A Task's own parties (the agency that owns it, the one that asked for it) are told of it: a
 * referral reaches its owner before that agency is on the care team. Part 2 content still needs
 * the participant's Consent, as for every read.
 */
export async function partnerMayFollowTask(
  deps: ReadAccessDeps,
  partnerId: string,
  task: Task,
  what: string,
): Promise<ReadDecision> {
  const org = `Organization/${partnerId}`;
  const patient = participantOf(task);
  if (!patient || (task.owner?.reference !== org && task.requester?.reference !== org)) {
    return { allowed: false, reason: `${partnerId} neither owns nor requested ${what}` };
  }
  return part2Gate(deps, partnerId, task, patient, what);
}

async function part2Gate(
  deps: ReadAccessDeps,
  partnerId: string,
  resource: FhirResource,
  patient: string,
  what: string,
): Promise<ReadDecision> {
  if (isPart2(resource)) {
    const consents = await deps.fhir.search<Consent>('Consent', { patient, status: 'active' });
    if (!consentPermits(consents, partnerId, deps.now())) {
      return {
        allowed: false,
        reason: `42 CFR Part 2: no active Consent of the participant lets ${partnerId} read ${what}`,
      };
    }
  }
  return { allowed: true, patient };
}

/**
 * What a partner is shown of a resource it may read: a CareTeam without the Part 2 programs on it
 * (that a program treats the person is itself Part 2 information) unless a Consent lets the
 * partner see the program's records.
 */
export async function shownTo(
  deps: ReadAccessDeps,
  partnerId: string,
  resource: FhirResource,
  part2Programs: readonly string[],
): Promise<FhirResource> {
  if (resource.resourceType !== 'CareTeam') {
    return resource;
  }
  const hidden = part2Programs.filter((p) => p !== partnerId).map((p) => `Organization/${p}`);
  const onTeam = (resource.participant ?? []).filter((m) =>
    hidden.some((h) => m.member?.reference === h || m.onBehalfOf?.reference === h),
  );
  if (onTeam.length === 0) {
    return resource;
  }
  const patient = resource.subject?.reference ?? '';
  const consents = await deps.fhir.search<Consent>('Consent', { patient, status: 'active' });
  if (consentPermits(consents, partnerId, deps.now())) {
    return resource;
  }
  const team: CareTeam = {
    ...resource,
    participant: (resource.participant ?? []).filter((m) => !onTeam.includes(m)),
  };
  return team;
}
