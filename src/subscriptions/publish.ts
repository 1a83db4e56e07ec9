import type { CarePlan, Identifier, Patient, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { partnerMayFollowTask, partnerMayRead } from '../security/read-access.js';
import { filterTakes, type EventFacts } from './filters.js';
import type { HubSubscription } from './subscription-request.js';
import type { SubscriptionStore } from './subscription-store.js';
import { TOPIC_INFO } from './topics.js';

export interface PublishDeps {
  readonly store: SubscriptionStore;
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly now: () => Date;
  notify(subscriptionId: string, eventNumber: number): Promise<void>;
}

/**
 * A new version of a CarePlan or Task is an event for every subscription whose topic takes it,
 * whose filters match it, and whose partner may be told of it now: a plan, on the participant's
 * care team; a Task, as its owner or requester; for 42 CFR Part 2 content, only while an active
 * Consent names the partner (security/read-access.ts, the rule of reads and deliveries). A
 * version published twice (a retried job, a scan looking again) keeps its first number: the
 * store numbers a focus once.
 * @param opts.createdBefore only subscriptions created before this instant (a scan of past versions)
 * @param opts.subscriptions every subscription, when the caller has just read them (a scan)
 */
export async function publishVersion(
  deps: PublishDeps,
  resource: CarePlan | Task,
  version: string,
  patient: string,
  opts: { readonly createdBefore?: string; readonly subscriptions?: readonly HubSubscription[] } = {},
): Promise<void> {
  const { createdBefore } = opts;
  const subscribers = (opts.subscriptions ?? (await deps.store.all())).filter(
    (s) =>
      TOPIC_INFO[s.topic]?.takes(resource) &&
      (createdBefore === undefined || Date.parse(s.createdAt) < Date.parse(createdBefore)),
  );
  if (subscribers.length === 0) {
    return;
  }
  const focus = `${resource.resourceType}/${resource.id}/_history/${version}`;
  let identifiers: Promise<readonly Identifier[]> | undefined;
  const facts: EventFacts = {
    patient,
    ...(resource.resourceType === 'Task' && resource.code ? { code: resource.code } : {}),
    identifiers: () =>
      (identifiers ??= deps.fhir
        .readIfPresent<Patient>('Patient', patient.split('/')[1] ?? '')
        .then((p) => p?.identifier ?? [])),
  };
  for (const sub of subscribers) {
    if ((await deps.store.status(sub.id)).status === 'off' || !(await filterTakes(sub.filter, facts))) {
      continue;
    }
    const decision =
      resource.resourceType === 'Task'
        ? await partnerMayFollowTask(deps, sub.partnerId, resource, focus)
        : await partnerMayRead(deps, sub.partnerId, resource, focus);
    if (!decision.allowed) {
      continue;
    }
    const n = await deps.store.append(sub.id, focus, patient, deps.now());
    await deps.notify(sub.id, n);
  }
}
