import type { Communication, Task } from 'fhir/r4.js';
import type { PartnerKind } from '../config/partners.js';
import { ForbiddenError, HubError } from '../errors/hub-error.js';
import { hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { MappedRecord } from '../mappers/types.js';
import { isReferral, REFERRER_STATUSES } from '../security/write-boundary.js';
import { isOpen } from './obligations.js';
import { changeCareTeam, type CoordinatorDeps } from './coordinator-assignment.js';
import { careTeamChangeNotice } from '../fhir/shared-care-team.js';

/**
 * Closed-loop referrals (README, "Referrals"; the SDOH Clinical Care IG's Task for referral
 * management): a partner refers a participant to another agency by sending a Task it requests and
 * that agency owns. From then on the Task moves as FHIR's Task state machine says, each side
 * moving only its own steps, and each move is told to the other side as a `referral-update`
 * Communication (on the participant's timeline, and found by polling the Tasks).
 */

export type ReferralDeps = CoordinatorDeps;

/** The place on the care team an agency takes by accepting a referral, by what kind of agency it is. */
const ROLE_BY_KIND: Readonly<Record<PartnerKind, string>> = {
  'behavioral-health': 'bh-clinician',
  housing: 'housing-navigator',
  'hcbs-provider': 'provider-coordinator',
  hie: 'provider-coordinator',
  county: 'provider-coordinator',
  other: 'provider-coordinator',
};

/** The owner's steps, from each status: take it up or turn it down, then work it to an end. */
const OWNER_MOVES: Readonly<Partial<Record<Task['status'], readonly Task['status'][]>>> = {
  requested: ['received', 'accepted', 'rejected'],
  received: ['accepted', 'rejected'],
  accepted: ['in-progress', 'on-hold', 'completed', 'failed'],
  'in-progress': ['on-hold', 'completed', 'failed'],
  'on-hold': ['in-progress', 'completed', 'failed'],
};

export const REFERRAL_STATUSES = [
  'received',
  'accepted',
  'rejected',
  'in-progress',
  'on-hold',
  'completed',
  'failed',
  'cancelled',
] as const;

/** A step on a referral: the new status, and why (required to reject, fail or cancel). */
export interface ReferralMove {
  readonly status: (typeof REFERRAL_STATUSES)[number];
  readonly reason?: string;
}

/**
 * Moves a referral Task one step for `by`: its owner takes it up, turns it down or works it; its
 * requester may cancel it while it is open. Anyone else is refused (403), and a step the state
 * machine does not allow from where the Task is answers 409 naming the steps that are.
 */
export async function moveReferral(
  deps: ReferralDeps,
  taskId: string,
  by: string,
  move: ReferralMove,
): Promise<Task> {
  const task = await deps.fhir.read<Task>('Task', taskId);
  const owner = agencyOf(task.owner?.reference);
  const requester = agencyOf(task.requester?.reference);
  const role = by === owner ? 'owner' : by === requester ? 'requester' : undefined;
  if (!role || !owner || !requester || owner === requester) {
    throw new ForbiddenError(
      'REFERRAL.NOT_A_PARTY',
      `Task/${taskId} is not a referral between ${by} and another agency`,
      'by',
    );
  }
  // The same step asked again (a retry after a lost answer) moves nothing, and finishes what the
  // first attempt may have left undone: the notice and the care-team join are written once.
  const repeated = task.status === move.status && (role === 'owner') === (move.status !== 'cancelled');
  const allowed = role === 'owner' ? (OWNER_MOVES[task.status] ?? []) : isOpen(task) ? ['cancelled'] : [];
  if (!repeated && !allowed.includes(move.status)) {
    const message = `Task/${taskId} is ${task.status}; its ${role} may move it to ${allowed.join(', ') || 'nothing more'}`;
    throw new HubError('REFERRAL.STEP', message, {
      status: 409,
      issues: [{ severity: 'error', code: 'business-rule', diagnostics: message, expression: ['status'] }],
    });
  }
  if (!move.reason && ['rejected', 'failed', 'cancelled'].includes(move.status)) {
    throw new HubError('REFERRAL.REASON', `A referral ${move.status} needs the reason`, {
      status: 422,
      issues: [
        { severity: 'error', code: 'required', diagnostics: 'reason is required', expression: ['reason'] },
      ],
    });
  }
  const at = deps.now().toISOString();
  const moved: Task = {
    ...task,
    status: move.status,
    lastModified: at,
    ...(move.reason ? { statusReason: { text: move.reason } } : {}),
  };
  const stored = repeated ? task : await deps.fhir.update(moved, { ifMatch: task.meta?.versionId ?? '' });
  const notice = updateNotice(deps, stored, by, role === 'owner' ? requester : owner, at, move);
  await deps.fhir.createIfNoneExist(notice, `identifier=${tokenOf(notice.identifier![0]!)}`);
  if (move.status === 'accepted') {
    await joinCareTeam(deps, stored, owner, at);
  }
  return stored;
}

/**
 * An agency that accepts a referral joins the participant's care team, so it reads the
 * participant and receives plan changes as the team's other agencies do (with a care-team-change
 * notice); one already on the team is left as it is.
 */
async function joinCareTeam(deps: ReferralDeps, task: Task, owner: string, at: string): Promise<void> {
  const patientId = /^Patient\/([A-Za-z0-9.-]+)$/.exec(task.for?.reference ?? '')?.[1];
  const partner = deps.partners.get(owner);
  if (!patientId || !partner) {
    return;
  }
  const agency = `Organization/${owner}`;
  let joined = false;
  const team = await changeCareTeam(deps, patientId, (participants) => {
    const onTeam = participants.some(
      (p) =>
        (p.member?.reference === agency || p.onBehalfOf?.reference === agency) &&
        !(p.period?.end && p.period.end <= at),
    );
    joined = !onTeam;
    return onTeam
      ? participants
      : [
          ...participants,
          {
            role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: ROLE_BY_KIND[partner.kind] }] }],
            member: { reference: agency, display: partner.name },
            period: { start: at },
          },
        ];
  });
  if (joined) {
    const identifier = hubIdentifier(
      deps.identifierBase,
      'care-team-notice',
      `${patientId}.${owner}.referral.${task.id}`,
    );
    const notice = careTeamChangeNotice(
      identifier,
      `Patient/${patientId}`,
      at,
      `${partner.name} joined the shared care team by accepting referral Task/${task.id}`,
      { about: [{ reference: `CareTeam/${team.id}` }, { reference: `Task/${task.id}` }] },
    );
    await deps.fhir.upsertByIdentifier(notice, identifier);
  }
}

/** The other side's notice of a step, once per Task version (a retried step writes it once). */
function updateNotice(
  deps: ReferralDeps,
  task: Task,
  from: string,
  to: string,
  at: string,
  move: ReferralMove,
): Communication {
  const name = (id: string): string => deps.partners.get(id)?.name ?? id;
  const what = task.description ?? task.code?.text ?? task.code?.coding?.[0]?.display ?? 'referral';
  return {
    resourceType: 'Communication',
    identifier: [
      hubIdentifier(deps.identifierBase, 'referral-update', `Task-${task.id}-${task.meta?.versionId ?? at}`),
    ],
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'referral-update' }] }],
    ...(task.for ? { subject: task.for } : {}),
    about: [{ reference: `Task/${task.id}` }],
    sent: at,
    sender: { reference: `Organization/${from}`, display: name(from) },
    recipient: [{ reference: `Organization/${to}`, display: name(to) }],
    payload: [
      {
        contentString: `Referral "${what}" is ${move.status} (${name(from)})${move.reason ? `: ${move.reason}` : ''}`,
      },
    ],
  };
}

/**
 * A referrer's record may not change a referral its owner has moved on: resending the Task as
 * requested after it was accepted would undo the acceptance. Such a write is refused (409),
 * naming the Task and where it stands; the referrer cancels through its step (`moveReferral`),
 * which tells the owner.
 */
export async function referralRegressions(
  deps: Pick<ReferralDeps, 'fhir' | 'partners'>,
  sender: string,
  mapped: MappedRecord,
): Promise<void> {
  const ctx = { sender, partnerIds: deps.partners.all().map((p) => p.id) };
  for (const w of mapped.writes) {
    if (w.resource.resourceType !== 'Task' || !isReferral(ctx, w.resource)) {
      continue;
    }
    const [current] = await deps.fhir.search<Task>('Task', {
      identifier: `${w.identifier.system}|${w.identifier.value}`,
    });
    if (current && !REFERRER_STATUSES.has(current.status)) {
      const message = `Task/${current.id} was moved on to ${current.status} by its owner; the referrer changes it only by its own step (cancel)`;
      throw new HubError('REFERRAL.MOVED_ON', message, {
        status: 409,
        issues: [{ severity: 'error', code: 'conflict', diagnostics: message, expression: ['Task.status'] }],
      });
    }
  }
}

function agencyOf(reference: string | undefined): string | undefined {
  return /^Organization\/([A-Za-z0-9.-]+)$/.exec(reference ?? '')?.[1];
}
