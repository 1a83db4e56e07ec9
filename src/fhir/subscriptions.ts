import type { Subscription } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import type { FhirGateway } from './fhir-gateway.js';
import { CODE_SYSTEM } from './profiles.js';

/**
 * The rest-hook Subscriptions through which the hub sees changes made directly on the FHIR
 * server: every CarePlan version, and acknowledgment Tasks a partner moves on there. PUT by id, so
 * registering at every start is idempotent.
 * @see https://hl7.org/fhir/R4/subscription.html
 */
export async function ensureSubscriptions(
  fhir: FhirGateway,
  hubPublicUrl: string,
  queuePrefix: string,
): Promise<void> {
  // One set of subscriptions per hub deployment (its queue prefix): the replicas of a deployment
  // share them, and a second deployment on the same FHIR server (staging, tests) gets its own.
  const suffix = createHash('sha256').update(queuePrefix).digest('hex').slice(0, 8);
  const hook = (id: string, criteria: string, reason: string): Subscription => ({
    resourceType: 'Subscription',
    id: `${id}-${suffix}`,
    status: 'requested',
    reason,
    criteria,
    channel: { type: 'rest-hook', endpoint: `${hubPublicUrl}/hooks/fhir`, payload: 'application/fhir+json' },
  });
  await fhir.update(
    hook('hub-careplan-changes', 'CarePlan?', 'Route every shared plan version to entitled partners'),
  );
  await fhir.update(
    hook(
      'hub-ack-tasks',
      `Task?code=${CODE_SYSTEM.taskCode}|acknowledge-plan-change`,
      'Follow acknowledgment Tasks updated directly on the FHIR server (received, accepted, completed)',
    ),
  );
}
