import { describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import type { PartnerDeliveryStatus } from '../../../src/routing/delivery-status.js';
import { ackTaskFor } from '../../../src/routing/record-acknowledgment.js';

const BASE = 'https://carecoord.example.org';
const TASK: Task = { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order' };

/**
 * The FHIR server finds the Task from the `appearsAt`-th search on (never, without it), and the
 * delivery status says how far the version got to partner-a.
 */
function world(appearsAt: number | undefined, at: PartnerDeliveryStatus['at']) {
  let searches = 0;
  const deps = {
    identifierBase: BASE,
    fhir: {
      search: async () => (++searches >= (appearsAt ?? Infinity) ? [TASK] : []),
    },
    status: {
      list: async (): Promise<PartnerDeliveryStatus[]> => [
        { partnerId: 'partner-a', state: 'sent', at, since: '' },
      ],
    },
  } as unknown as Parameters<typeof ackTaskFor>[0];
  return { deps, searches: () => searches };
}

describe('the acknowledgment Task of an answer by plan and version', () => {
  it('waits for a Task still being written when the version was sent to the partner', async () => {
    // The push goes out before the plan-change job writes its Tasks: the answer can come first.
    const { deps, searches } = world(3, { sent: '2026-12-06T08:00:00Z' });
    await expect(ackTaskFor(deps, 'partner-a', '77', '3', 5_000)).resolves.toBe(TASK);
    expect(searches()).toBe(3);
  });

  it('answers at once when nothing was sent to the partner', async () => {
    const { deps, searches } = world(3, {});
    await expect(ackTaskFor(deps, 'partner-a', '77', '3', 5_000)).resolves.toBeUndefined();
    expect(searches()).toBe(1);
  });

  it('gives up after the wait when the Task never comes', async () => {
    const { deps } = world(undefined, { sent: '2026-12-06T08:00:00Z' });
    const started = Date.now();
    await expect(ackTaskFor(deps, 'partner-a', '77', '3', 300)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
