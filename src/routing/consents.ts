import type { Consent } from 'fhir/r4.js';
import type { PartnerRegistry } from '../config/partners.js';
import { UnknownPartnerError } from '../errors/hub-error.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { DeliveryRequest } from './deliver-plan-change.js';
import type { WithheldDeliveries } from './withheld-deliveries.js';
import { part2Consent } from '../security/part2.js';

export interface ConsentDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly withheld: WithheldDeliveries;
  readonly now: () => Date;
  enqueueDelivery(req: DeliveryRequest): Promise<void>;
}

/**
 * Records the participant's consent to Part 2 disclosure to a partner, then sends what was withheld
 * from that partner for want of it. Returns the Consent and how many deliveries it released.
 */
export async function grantPart2Consent(
  deps: ConsentDeps,
  patientId: string,
  partnerId: string,
  until?: string,
  recordedBy?: string,
): Promise<{ consent: Consent; released: number }> {
  if (!deps.partners.get(partnerId)) {
    throw new UnknownPartnerError('recipient', partnerId);
  }
  await deps.fhir.read('Patient', patientId); // 404 for an unknown participant
  const patient = `Patient/${patientId}`;
  const at = deps.now();
  // Who recorded it: the staff member who verified the consent with the participant.
  const consent = await deps.fhir.create<Consent>({
    ...part2Consent(patient, partnerId, at, until),
    verification: [
      {
        verified: true,
        verifiedWith: { display: recordedBy ?? 'break-glass (ADMIN_TOKEN)' },
        verificationDate: at.toISOString(),
      },
    ],
  });
  const released = await deps.withheld.release(patient, partnerId, (req) =>
    deps.enqueueDelivery({ ...req, release: `consent-${consent.id}` }),
  );
  return { consent, released };
}

/** Revokes a Consent: from now on nothing more goes out under it, queued deliveries included. */
export async function revokeConsent(deps: Pick<ConsentDeps, 'fhir'>, consentId: string): Promise<Consent> {
  const consent = await deps.fhir.read<Consent>('Consent', consentId);
  return deps.fhir.update<Consent>(
    { ...consent, status: 'inactive' },
    { ifMatch: consent.meta?.versionId ?? '' },
  );
}
