import type { Subscription } from 'fhir/r4.js';
import type { FhirGateway } from './fhir-gateway.js';
import { CODE_SYSTEM } from './profiles.js';

/**
 * The rest-hook Subscriptions through which the hub sees changes made directly on the FHIR
 * server: every CarePlan version, and acknowledgment Tasks a partner moves on there. PUT by id, so
 * registering at every start is idempotent.
 * @see https://hl7.org/fhir/R4/subscription.html
 */
export async function ensureSubscriptions(fhir: FhirGateway, hubPublicUrl: string): Promise<void> {
  const hook = (id: string, criteria: string, reason: string): Subscription => ({
    resourceType: 'Subscription',
    id,
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
