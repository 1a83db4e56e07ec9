import { describe, expect, it } from '@jest/globals';
import type { Encounter, Task } from 'fhir/r4.js';
import { parseEvvCsv } from '../../../src/adapters/evv/parse-evv-csv.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { evvVisitToMapped } from '../../../src/mappers/evv/evv-visit-to-fhir.js';
import type { MappingContext } from '../../../src/mappers/types.js';
import { expectGolden, goldenInput } from '../../support/golden.js';

const partner: PartnerConfig = {
  id: 'riverbend-home-care',
  name: 'Riverbend Home Care',
  kind: 'hcbs-provider',
  inbound: { formats: ['evv-csv'] },
  codeTranslations: { visitStatus: { PCAN: 'cancelled' } },
};
const ctx: MappingContext = { partner, identifierBase: 'https://carecoord.example.org' };

function visits() {
  const result = parseEvvCsv(Buffer.from(goldenInput('evv', 'visits.input.csv')), partner);
  expect(result.rejected).toEqual([]);
  return result.accepted;
}

describe('evvVisitToMapped', () => {
  it('maps completed, missed, cancelled and checked-in visits (golden)', () => {
    const mapped = visits().map((v) => ({ location: v.location, mapped: evvVisitToMapped(v.record, ctx) }));
    expectGolden('evv', 'visits', mapped);
  });

  it('turns a missed visit into a Flag, a follow-up Task due 24 hours after the scheduled end, and an event', () => {
    const missed = visits().find((v) => v.sourceId === 'V-1003')!.record;
    const { writes, events } = evvVisitToMapped(missed, ctx);
    const [flag, task] = writes;
    expect(writes.map((w) => w.resource.resourceType)).toEqual(['Flag', 'Task']);
    expect((task!.resource as Task).focus).toEqual({ reference: flag!.fullUrl });
    // The scheduled end is after the spring-forward change: -04:00, one day later.
    expect((task!.resource as Task).restriction?.period?.end).toBe('2025-03-10T03:30:00-04:00');
    expect(events).toEqual([
      { type: 'missed-visit', at: '2025-03-09T01:30:00-05:00', flag: flag!.fullUrl, task: task!.fullUrl },
    ]);
  });

  it('evidences a completed visit as a finished home-health Encounter over the check-in and check-out', () => {
    const completed = visits().find((v) => v.sourceId === 'V-1001')!.record;
    const { writes, events } = evvVisitToMapped(completed, ctx);
    const encounter = writes[0]!.resource as Encounter;
    expect(encounter).toMatchObject({
      status: 'finished',
      class: { code: 'HH' },
      period: { start: '2025-03-03T09:04:00-05:00', end: '2025-03-03T11:02:00-05:00' },
    });
    expect(events).toEqual([]);
  });

  it('gives the same output for the same visit', () => {
    const [first] = visits();
    expect(evvVisitToMapped(first!.record, ctx)).toEqual(evvVisitToMapped(first!.record, ctx));
  });
});
