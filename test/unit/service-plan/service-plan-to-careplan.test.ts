import { describe, expect, it } from '@jest/globals';
import type { CarePlan, Flag } from 'fhir/r4.js';
import { parseServicePlan } from '../../../src/adapters/service-plan/parse-service-plan.js';
import type { ServicePlan } from '../../../src/adapters/service-plan/types.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { servicePlanToMapped } from '../../../src/mappers/service-plan/service-plan-to-careplan.js';
import type { MappingContext } from '../../../src/mappers/types.js';
import { expectGolden, goldenInput } from '../../support/golden.js';

const partner: PartnerConfig = {
  id: 'riverbend-home-care',
  name: 'Riverbend Home Care',
  kind: 'hcbs-provider',
  inbound: { formats: ['service-plan'] },
  codeTranslations: { riskFlag: { 'CG-STRAIN': 'caregiver-stress', 'ENV-07': 'safeguarding-concern' } },
};
const ctx: MappingContext = { partner, identifierBase: 'https://carecoord.example.org' };

function plan(): ServicePlan {
  const result = parseServicePlan(Buffer.from(goldenInput('service-plan', 'plan-with-risks.input.json')));
  expect(result.rejected).toEqual([]);
  return result.accepted[0]!.record;
}

describe('servicePlanToMapped', () => {
  it('maps the plan to a CarePlan, Goals, risk Flags, care team members and an event (golden)', () => {
    expectGolden('service-plan', 'plan-with-risks', servicePlanToMapped(plan(), ctx));
  });

  it('is deterministic', () => {
    expect(servicePlanToMapped(plan(), ctx)).toEqual(servicePlanToMapped(plan(), ctx));
  });

  it('names this partner by reference as the owner of its own services, others by name only', () => {
    const carePlan = servicePlanToMapped(plan(), ctx).writes[0]!.resource as CarePlan;
    expect(carePlan.meta?.profile).toEqual([
      'https://carecoord.example.org/fhir/StructureDefinition/hub-careplan',
    ]);
    expect(carePlan.author).toEqual({
      reference: 'Organization/riverbend-home-care',
      display: 'Riverbend Home Care',
    });
    expect(carePlan.activity!.map((a) => a.detail!.performer)).toEqual([
      [{ reference: 'Organization/riverbend-home-care', display: 'Riverbend Home Care' }],
      [{ display: 'Lakeside Rides LLC' }],
      [{ display: 'Chris Testperson (son)' }],
    ]);
  });

  it('raises Flags only for translated risk codes, and keeps every risk as a plan note', () => {
    const mapped = servicePlanToMapped(plan(), ctx);
    const flags = mapped.writes
      .filter((w) => w.resource.resourceType === 'Flag')
      .map((w) => w.resource as Flag);
    expect(flags.map((f) => f.code.coding![0]!.code)).toEqual(['caregiver-stress', 'safeguarding-concern']);
    const notes = (mapped.writes[0]!.resource as CarePlan).note!.map((n) => n.text);
    expect(notes.filter((n) => n.startsWith('Risk '))).toHaveLength(3);
    expect(notes).toContain(
      'Risk R1: Falls when getting out of the shower. Risk management plan: Grab bar installed; aide present during showers. Local risk code FALL has no hub risk flag',
    );
    const untranslated = servicePlanToMapped(plan(), {
      ...ctx,
      partner: { ...partner, codeTranslations: {} },
    });
    expect(untranslated.writes.map((w) => w.resource.resourceType)).toEqual(['CarePlan', 'Goal', 'Goal']);
    expect((untranslated.writes[0]!.resource as CarePlan).note!.map((n) => n.text)).toContain(
      'Risk R2: Primary caregiver (daughter) reports exhaustion. Risk management plan: Respite two weekends a month. Local risk code CG-STRAIN has no hub risk flag',
    );
  });
});
