import type { Identifier } from 'fhir/r4.js';

/** Kinds of records the hub itself issues identifiers for. */
export type HubRecordKind =
  | 'care-team'
  | 'care-team-notice'
  | 'merge-notice'
  | 'careplan'
  | 'plan-change-notice'
  | 'ack-task'
  | 'ack-notice'
  | 'escalation-notice'
  | 'escalation-task'
  | 'integration-alert'
  | 'sprint-task'
  | 'sprint'
  | 'documentation-task'
  | 'crisis-update-task'
  | 'authorization-review'
  | 'plan-review-task'
  | 'overdue-flag'
  | 'huddle'
  | 'huddle-action'
  | 'refusal-record'
  | 'referral-update'
  | 'rights-audit'
  | 'engineer-alert'
  | 'disputed-identifier';

/** `<base>/sid/hub/<kind>`: identifier systems of resources the hub creates. */
export function hubSystem(identifierBase: string, kind: HubRecordKind): string {
  return `${identifierBase}/sid/hub/${kind}`;
}

export function hubIdentifier(identifierBase: string, kind: HubRecordKind, value: string): Identifier {
  return { system: hubSystem(identifierBase, kind), value };
}

/** A token search matching any of `identifiers` (`system|value,system|value`), for search params. */
export function anyOfIdentifiers(identifiers: readonly Identifier[]): string {
  return identifiers.map((i) => `${i.system}|${i.value}`).join(',');
}

/** `system|value`, URL-encoded, for conditional URLs and token searches. */
export function tokenOf(identifier: Identifier): string {
  return encodeURIComponent(`${identifier.system}|${identifier.value}`);
}
