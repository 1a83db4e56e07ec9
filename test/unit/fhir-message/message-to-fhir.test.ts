import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CarePlan } from 'fhir/r4.js';
import { parseFhirTransaction } from '../../../src/adapters/fhir-transaction/parse-transaction.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { fhirMessageToMapped } from '../../../src/mappers/fhir-message/message-to-fhir.js';
import type { MappingContext } from '../../../src/mappers/types.js';
import { REPO_ROOT } from '../../support/test-env.js';

const partner: PartnerConfig = {
  id: 'ltss-agency',
  name: 'LTSS Agency',
  kind: 'hcbs-provider',
  inbound: { formats: ['fhir-transaction'] },
};
const ctx: MappingContext = { partner, identifierBase: 'https://carecoord.example.org' };
const ELTSS = path.join(REPO_ROOT, 'test/fixtures/conformance/fhir/eltss-service-plan-collection.xml');

describe('fhirMessageToMapped, an eLTSS service plan', () => {
  const parsed = parseFhirTransaction(readFileSync(ELTSS));
  const mapped = fhirMessageToMapped(parsed.accepted[0]!.record, ctx);
  const plan = mapped.writes.find((w) => w.resource.resourceType === 'CarePlan')!.resource as CarePlan;
  const service = mapped.writes.find((w) => w.resource.resourceType === 'ServiceRequest')!;

  it('describes an activity that points at a service by that service, owned by its performer', () => {
    expect(plan.activity![1]).toEqual({
      detail: {
        kind: 'ServiceRequest',
        code: { text: 'home-delivered meals' },
        status: 'scheduled',
        scheduledPeriod: { start: '2026-11-01', end: '2027-04-30' },
        performer: [
          {
            type: 'Organization',
            identifier: { system: 'https://ltss.example.org/provider-id', value: 'CF-PROV-1' },
          },
        ],
        description: 'home-delivered meals, 5 meals per week',
      },
    });
    expect(service.resource).toMatchObject({ resourceType: 'ServiceRequest', status: 'active' });
  });

  it("gives the sender the activities that name no performer, and keeps the plan's own author, by identifier", () => {
    expect(plan.activity![0]!.detail).toMatchObject({
      description: 'walk twice a week with a neighbour',
      performer: [{ reference: 'Organization/ltss-agency' }],
    });
    // The planner is not a resource the hub writes: the plan names them by their NPI.
    expect(plan.author).toEqual({
      type: 'Practitioner',
      identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: '9941339100' },
    });
  });
});
