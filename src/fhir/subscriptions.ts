import type { Subscription } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import type { FhirGateway } from './fhir-gateway.js';
import { againAfterWriteRace } from './retry.js';
import { CODE_SYSTEM } from './profiles.js';

/**
 * The header every notification must carry: the FHIR server sends `Subscription.channel.header`
 * with each rest-hook call, and the hub refuses a call without the deployment's secret, so nobody
 * else can post forged plan versions to `/hooks/fhir`.
 */
export const HOOK_SECRET_HEADER = 'X-Hub-Subscription-Secret';

/** Where the hub takes notifications. */
const HOOK_PATH = '/hooks/fhir';

/** How long start-up waits for the server to activate the subscriptions. */
const ACTIVATION_TIMEOUT_MS = 20_000;

/**
 * The rest-hook Subscriptions through which the hub sees changes made directly on the FHIR
 * server: every CarePlan version, and acknowledgment Tasks a partner moves on there. PUT by id, so
 * registering at every start is idempotent. Servers activate a subscription asynchronously; at
 * start this waits until they are `active`, so a change made right after start-up is not missed.
 * Checked again every minute (without waiting), so when the replica a subscription points at is
 * gone, another takes it over.
 * @returns whether both subscriptions became active in time (if not, the history scan still
 *   catches what they miss)
 * @see https://hl7.org/fhir/R4/subscription.html
 */
export async function ensureSubscriptions(
  fhir: FhirGateway,
  hubPublicUrl: string,
  queuePrefix: string,
  secret: string,
  opts: { readonly waitForActivation: boolean } = { waitForActivation: true },
): Promise<boolean> {
  const [careplanId, ackId] = subscriptionIds(queuePrefix);
  const hook = (id: string, criteria: string, reason: string): Subscription => ({
    resourceType: 'Subscription',
    id,
    status: 'requested',
    reason,
    criteria,
    channel: {
      type: 'rest-hook',
      endpoint: `${hubPublicUrl}${HOOK_PATH}`,
      payload: 'application/fhir+json',
      header: [`${HOOK_SECRET_HEADER}: ${secret}`],
    },
  });
  const subscriptions = [
    hook(careplanId, 'CarePlan?', 'Route every shared plan version to entitled partners'),
    hook(
      ackId,
      `Task?code=${CODE_SYSTEM.taskCode}|acknowledge-plan-change`,
      'Follow acknowledgment Tasks updated directly on the FHIR server (received, accepted, completed)',
    ),
  ];
  for (const subscription of subscriptions) {
    // Replicas starting together each register it; a PUT retried on a slow server races its first.
    await againAfterWriteRace(() => register(fhir, subscription));
  }
  if (!opts.waitForActivation) {
    return true;
  }
  const deadline = Date.now() + ACTIVATION_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const states = await Promise.all(
      subscriptions.map((s) => fhir.read<Subscription>('Subscription', s.id!)),
    );
    if (states.every((s) => s.status === 'active')) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/**
 * Puts one subscription on the server unless an active one with the same criteria and secret is
 * there already.
 */
async function register(fhir: FhirGateway, subscription: Subscription): Promise<void> {
  const current = await fhir.read<Subscription>('Subscription', subscription.id!).catch(() => undefined);
  const sameHook =
    current?.status === 'active' &&
    current.criteria === subscription.criteria &&
    (current.channel.header ?? []).join('\n') === (subscription.channel.header ?? []).join('\n');
  // Re-registering an unchanged, active subscription would only deactivate it for a while; one
  // pointing at another replica of the deployment that answers stays with it (replicas that
  // each know only their own address would otherwise take it from each other at every start).
  const keep =
    sameHook &&
    (current.channel.endpoint === subscription.channel.endpoint ||
      (await answers(current.channel.endpoint ?? '')));
  if (!keep) {
    await fhir.update(subscription);
  }
}

/** Whether the hub behind a rest-hook endpoint is up (its `/health` answers within 2 s). */
async function answers(endpoint: string): Promise<boolean> {
  if (!endpoint.endsWith(HOOK_PATH)) {
    return false;
  }
  try {
    const res = await fetch(`${endpoint.slice(0, -HOOK_PATH.length)}/health`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * One set of subscriptions per hub deployment (its queue prefix): the replicas of a deployment
 * share them, and a second deployment on the same FHIR server (staging, tests) gets its own.
 */
function subscriptionIds(queuePrefix: string): [careplan: string, ackTasks: string] {
  const suffix = createHash('sha256').update(queuePrefix).digest('hex').slice(0, 8);
  return [`hub-careplan-changes-${suffix}`, `hub-ack-tasks-${suffix}`];
}

/**
 * Removes a deployment's subscriptions, for one that goes away for good (a test or preview
 * deployment): otherwise the FHIR server keeps notifying an address nobody answers.
 */
export async function removeSubscriptions(fhir: FhirGateway, queuePrefix: string): Promise<void> {
  for (const id of subscriptionIds(queuePrefix)) {
    // A delete races the server's own activation of the subscription.
    await againAfterWriteRace(() => fhir.delete('Subscription', id));
  }
}
