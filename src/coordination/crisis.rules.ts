import type { Reference, Task } from 'fhir/r4.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { hubTask } from '../fhir/hub-task.js';
import { CRISIS_THRESHOLDS } from '../adapters/crisis-update/types.js';
import { DEADLINE_WINDOW_SCHEMA, type DeadlineWindow } from './business-calendar.js';

/**
 * Crisis stabilization updates (operating rules 8 and 9, README): a threshold crossed makes the next update to
 * the case manager an obligation of the named supervisor, with a deadline; temporary support beyond
 * the authorized scope or its stabilization window needs the case manager's authorization review.
 */
export interface CrisisConfig {
  /** CareTeam role of the case manager. */
  readonly caseManagerRole: string;
  /** Without a case manager on the care team: the agency holding this decision right. */
  readonly caseManagerRight: string;
  /** Escalation trigger of a missed update. */
  readonly escalateAs: string;
  readonly updateWithin: Readonly<Record<string, DeadlineWindow>>;
  readonly authorizationReview: DeadlineWindow;
}

/** crisis.yaml, as coordination-config.ts validates it. */
export const CRISIS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['caseManagerRole', 'caseManagerRight', 'escalateAs', 'updateWithin', 'authorizationReview'],
  properties: {
    caseManagerRole: { type: 'string', minLength: 1 },
    caseManagerRight: { type: 'string', minLength: 1 },
    escalateAs: { type: 'string', minLength: 1 },
    // Every threshold needs a window: a threshold without one would have no deadline.
    updateWithin: {
      type: 'object',
      additionalProperties: false,
      required: [...CRISIS_THRESHOLDS],
      properties: Object.fromEntries(CRISIS_THRESHOLDS.map((t) => [t, DEADLINE_WINDOW_SCHEMA])),
    },
    authorizationReview: DEADLINE_WINDOW_SCHEMA,
  },
};

/**
 * When the next update to the case manager is due: the earliest of the update's own next review
 * point and each crossed threshold's window (computed by `dueAfter` on the owning agency's calendar).
 */
export function nextUpdateDue(
  config: CrisisConfig,
  thresholds: readonly string[],
  nextReviewAt: Date,
  dueAfter: (window: DeadlineWindow) => Date,
): Date {
  return thresholds
    .flatMap((t) => (config.updateWithin[t] ? [dueAfter(config.updateWithin[t])] : []))
    .reduce((earliest, d) => (d < earliest ? d : earliest), nextReviewAt);
}

/** The next-update Task: owned by the named supervisor, for the case manager; one per crisis update. */
export function nextUpdateTask(u: {
  identifierBase: string;
  patient: string;
  communication: string;
  thresholds: readonly string[];
  supervisor: Reference;
  caseManager: Reference | undefined;
  requester: Reference;
  at: Date;
  due: Date;
}): Task {
  return {
    ...hubTask({
      identifier: hubIdentifier(u.identifierBase, 'crisis-update-task', u.communication.replace('/', '-')),
      code: 'crisis-update',
      description: `Send the case manager${u.caseManager?.display ? ` (${u.caseManager.display})` : ''} the next stabilization update or an escalation notice (thresholds crossed: ${u.thresholds.join(', ')})`,
      focus: u.communication,
      for: u.patient,
      owner: u.supervisor,
      requester: u.requester,
      authoredOn: u.at.toISOString(),
      start: u.at.toISOString(),
      due: u.due.toISOString(),
      priority: 'urgent',
    }),
    ...(u.caseManager
      ? {
          restriction: {
            period: { start: u.at.toISOString(), end: u.due.toISOString() },
            recipient: [u.caseManager],
          },
        }
      : {}),
  };
}

/** The case manager's authorization review of a temporary support increase. */
export function authorizationReviewTask(a: {
  identifierBase: string;
  patient: string;
  communication: string;
  summary: string;
  reason: 'exceeds-scope' | 'past-window';
  owner: Reference;
  requester: Reference;
  at: Date;
  due: Date;
}): Task {
  return hubTask({
    identifier: hubIdentifier(
      a.identifierBase,
      'authorization-review',
      `${a.reason}.${a.communication.replace('/', '-')}`,
    ),
    code: 'authorization-review',
    description:
      a.reason === 'exceeds-scope'
        ? `Review authorization: temporary support increase exceeds the authorized scope: ${a.summary}`
        : `Review authorization: temporary support increase is still in place past its stabilization window: ${a.summary}`,
    focus: a.communication,
    for: a.patient,
    owner: a.owner,
    requester: a.requester,
    authoredOn: a.at.toISOString(),
    start: a.at.toISOString(),
    due: a.due.toISOString(),
  });
}
