import type { CarePlan, Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';

// The topics partners may subscribe to (README, "Subscriptions"), and which resource versions
// each takes. Pure: who may be told of a version is the read rule's (security/read-access.ts).

const BASE = 'https://carecoord.example.org/fhir/SubscriptionTopic';

/** The topics by canonical URL. */
export const TOPICS = {
  carePlanChanged: `${BASE}/careplan-changed`,
  agencyTaskChanged: `${BASE}/agency-task-changed`,
  acknowledgmentChanged: `${BASE}/acknowledgment-changed`,
  referralChanged: `${BASE}/referral-changed`,
  escalationRaised: `${BASE}/escalation-raised`,
} as const;

/** The search parameters a topic's filters may use (`<Type>?<name>=<value>`). */
export type FilterName = 'patient' | 'patient:identifier' | 'code';

export interface TopicInfo {
  readonly resourceType: 'CarePlan' | 'Task';
  readonly title: string;
  readonly filters: readonly FilterName[];
  /** Whether a version of the topic's resource type is an event of the topic. */
  readonly takes: (resource: CarePlan | Task) => boolean;
}

const hubCode = (task: Task): string | undefined =>
  task.code?.coding?.find((c) => c.system === CODE_SYSTEM.taskCode)?.code;

/**
 * A referral between agencies: a Task one Organization asks of another, with a code of its own
 * (not one of the Tasks the hub opens under its own code system).
 */
function isReferralTask(task: Task): boolean {
  const requester = task.requester?.reference ?? '';
  const owner = task.owner?.reference ?? '';
  return (
    hubCode(task) === undefined &&
    requester.startsWith('Organization/') &&
    owner.startsWith('Organization/') &&
    requester !== owner
  );
}

const TASK_FILTERS: readonly FilterName[] = ['patient', 'patient:identifier', 'code'];

export const TOPIC_INFO: Readonly<Record<string, TopicInfo>> = {
  [TOPICS.carePlanChanged]: {
    resourceType: 'CarePlan',
    title: "A new version of a participant's shared CarePlan whose care team the partner is on",
    filters: ['patient', 'patient:identifier'],
    takes: (r) => r.resourceType === 'CarePlan',
  },
  [TOPICS.agencyTaskChanged]: {
    resourceType: 'Task',
    title: 'A Task the partner owns or requested was opened or changed (including turning overdue)',
    filters: TASK_FILTERS,
    takes: (r) => r.resourceType === 'Task',
  },
  [TOPICS.acknowledgmentChanged]: {
    resourceType: 'Task',
    title: "An acknowledgment Task of a plan version, the partner's own or one it asked for, changed",
    filters: TASK_FILTERS,
    takes: (r) => r.resourceType === 'Task' && hubCode(r) === 'acknowledge-plan-change',
  },
  [TOPICS.referralChanged]: {
    resourceType: 'Task',
    title: 'A referral the partner made or received was opened or moved on',
    filters: TASK_FILTERS,
    takes: (r) => r.resourceType === 'Task' && isReferralTask(r),
  },
  [TOPICS.escalationRaised]: {
    resourceType: 'Task',
    title: 'An escalation review the partner owns or requested was raised or changed',
    filters: TASK_FILTERS,
    takes: (r) => r.resourceType === 'Task' && hubCode(r) === 'escalation-review',
  },
};
