import type { Bundle, Organization } from 'fhir/r4.js';
import type { PartnerConfig } from '../config/partners.js';
import type { FhirGateway } from './fhir-gateway.js';

/**
 * Every partner is `Organization/<partnerId>` on the FHIR server, so records can name their
 * agency before anything else is known. PUT by id in one transaction: idempotent.
 */
export async function ensurePartnerOrganizations(
  fhir: FhirGateway,
  partners: readonly PartnerConfig[],
  identifierBase: string,
): Promise<void> {
  if (partners.length === 0) {
    return;
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: partners.map((p) => {
      const org: Organization = {
        resourceType: 'Organization',
        id: p.id,
        active: true,
        identifier: [{ system: `${identifierBase}/sid/partners`, value: p.id }],
        name: p.name,
        type: [{ text: p.kind }],
      };
      return { resource: org, request: { method: 'PUT', url: `Organization/${p.id}` } };
    }),
  };
  await fhir.transaction(bundle);
}
