import type { CareTeam } from 'fhir/r4.js';
import { HubError, UnknownPartnerError } from '../errors/hub-error.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { careTeamChangeNotice } from '../fhir/shared-care-team.js';
import { changeCareTeam, type CoordinatorDeps } from './coordinator-assignment.js';

/**
 * Staff end an agency's place on a participant's shared care team (a join that was wrong, a
 * service that ended): every membership of the agency, and of its staff on its behalf, gets an
 * end today, and a care-team-change notice says who ended it and why. From then the agency reads
 * nothing more about the participant and receives no plan changes; a later record from it does
 * not put it back (its entry stays, ended).
 */
export async function endCareTeamMembership(
  deps: CoordinatorDeps,
  patientId: string,
  partnerId: string,
  reason: string,
  endedBy: string,
): Promise<CareTeam> {
  if (!deps.partners.get(partnerId)) {
    throw new UnknownPartnerError('partner', partnerId);
  }
  const agency = `Organization/${partnerId}`;
  const at = deps.now().toISOString();
  let ended = 0;
  const team = await changeCareTeam(deps, patientId, (participants) =>
    participants.map((p) => {
      const ofAgency = p.member?.reference === agency || p.onBehalfOf?.reference === agency;
      if (!ofAgency || (p.period?.end && p.period.end <= at)) {
        return p;
      }
      ended++;
      return { ...p, period: { ...p.period, end: at } };
    }),
  );
  if (ended === 0) {
    throw new HubError('CARE_TEAM.NOT_A_MEMBER', `${partnerId} is not on this participant's care team`, {
      status: 404,
      issues: [{ severity: 'error', code: 'not-found', diagnostics: `${partnerId} is not on the care team` }],
    });
  }
  const identifier = hubIdentifier(
    deps.identifierBase,
    'care-team-notice',
    `${patientId}.${partnerId}.ended.${at}`,
  );
  const notice = careTeamChangeNotice(
    identifier,
    `Patient/${patientId}`,
    at,
    `${partnerId} left the shared care team (ended by ${endedBy}): ${reason}`,
    { about: [{ reference: `CareTeam/${team.id}` }], sender: { display: endedBy } },
  );
  await deps.fhir.upsertByIdentifier(notice, identifier);
  return team;
}
