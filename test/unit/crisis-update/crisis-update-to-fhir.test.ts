import { describe, expect, it } from '@jest/globals';
import type { Flag } from 'fhir/r4.js';
import { parseCrisisUpdate } from '../../../src/adapters/crisis-update/parse-crisis-update.js';
import type { CrisisUpdate } from '../../../src/adapters/crisis-update/types.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { crisisUpdateToMapped } from '../../../src/mappers/crisis-update/crisis-update-to-fhir.js';
import type { MappingContext } from '../../../src/mappers/types.js';
import { expectGolden, goldenInput } from '../../support/golden.js';

const partner: PartnerConfig = {
  id: 'northside-bh',
  name: 'Northside Behavioral Health',
  kind: 'behavioral-health',
  inbound: { formats: ['crisis-update'] },
};
const ctx: MappingContext = { partner, identifierBase: 'https://carecoord.example.org' };

function updates(name: string): CrisisUpdate[] {
  const result = parseCrisisUpdate(Buffer.from(goldenInput('crisis-update', `${name}.input.json`)));
  expect(result.rejected).toEqual([]);
  return result.accepted.map((a) => a.record);
}

describe('crisisUpdateToMapped', () => {
  it('maps an update that crosses thresholds and exceeds the authorized scope (golden)', () => {
    expectGolden(
      'crisis-update',
      'high-risk-evening',
      updates('high-risk-evening').map((u) => crisisUpdateToMapped(u, ctx)),
    );
  });

  it('maps an informational update to a Communication alone (golden)', () => {
    const mapped = updates('informational').map((u) => crisisUpdateToMapped(u, ctx));
    expect(mapped[0]!.writes.map((w) => w.resource.resourceType)).toEqual(['Communication']);
    expectGolden('crisis-update', 'informational', mapped);
  });

  it('carries what the coordination rules need in its event: supervisor, review point, support', () => {
    const [update] = updates('high-risk-evening');
    const { writes, events } = crisisUpdateToMapped(update!, ctx);
    const communication = writes[0]!;
    expect(writes.some((w) => w.resource.resourceType === 'Task')).toBe(false);
    const flags = writes.filter((w) => w.resource.resourceType === 'Flag').map((w) => w.resource as Flag);
    expect(flags.map((f) => f.code.coding?.[0]?.code)).toEqual(['self-harm-risk', 'behavioral-escalation']);
    expect(events).toEqual([
      {
        type: 'crisis-update',
        at: '2025-03-04T19:40:00-05:00',
        communication: communication.fullUrl,
        thresholds: [
          'self-harm-risk',
          'mobile-crisis',
          'police-ems',
          'major-family-concern',
          'temporary-support-increase',
        ],
        supervisor: {
          identifier: { system: 'https://carecoord.example.org/sid/northside-bh/staff', value: 'EMP-0092' },
          display: 'Dana Shiftlead, Residential supervisor (555-0173)',
        },
        nextReviewAt: '2025-03-05T17:00:00-05:00',
        support: {
          summary: expect.stringContaining('review by 2025-03-12') as unknown as string,
          exceedsAuthorizedScope: true,
          reviewBy: '2025-03-12T23:59:59-05:00',
        },
      },
    ]);
  });

  it('raises ED-contact and medication-change flags', () => {
    const [update] = updates('high-risk-evening');
    const withinScope: CrisisUpdate = {
      ...update!,
      thresholdsCrossed: ['ed-visit', 'medication-disruption'],
      temporarySupportIncrease: { ...update!.temporarySupportIncrease!, exceedsAuthorizedScope: false },
    };
    const { writes, events } = crisisUpdateToMapped(withinScope, ctx);
    expect(
      writes.map((w) => [w.resource.resourceType, (w.resource as Flag).code?.coding?.[0]?.code]),
    ).toEqual([
      ['Communication', undefined],
      ['Flag', 'recent-ed-contact'],
      ['Flag', 'medication-change'],
    ]);
    expect(events[0]).toMatchObject({
      thresholds: ['ed-visit', 'medication-disruption'],
      support: { exceedsAuthorizedScope: false },
    });
  });
});
