import type { Communication } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';

/**
 * Tells the partner (and, through the FHIR record and the operations page, the engineers) that
 * its deliveries are held because its circuit opened. One notice per opening.
 */
export async function notifyCircuitOpened(
  fhir: FhirGateway,
  identifierBase: string,
  partnerId: string,
  at: Date,
  retryAt: Date,
): Promise<void> {
  const identifier = hubIdentifier(identifierBase, 'integration-alert', `${partnerId}.${at.getTime()}`);
  const notice: Communication = {
    resourceType: 'Communication',
    identifier: [identifier],
    status: 'completed',
    priority: 'urgent',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'integration-alert' }] }],
    sent: at.toISOString(),
    recipient: [{ reference: `Organization/${partnerId}` }],
    payload: [
      {
        contentString:
          `Deliveries to this partner are failing; they are held and will be retried from ${retryAt.toISOString()}. ` +
          `Pending work can be pulled meanwhile: Task?owner=Organization/${partnerId}&status=requested.`,
      },
    ],
  };
  await fhir.upsertByIdentifier(notice, identifier);
}
