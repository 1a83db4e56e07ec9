import { describe, expect, it } from '@jest/globals';
import {
  conditionsFrom,
  nextAlertStates,
  type AlertSettings,
  type AlertState,
  type Condition,
} from '../../../src/alerts/alert.rules.js';

const settings: AlertSettings = {
  afterMs: 5 * 60_000,
  queueDepth: 100,
  queueAgeMs: 10 * 60_000,
  rejectionRate: 0.2,
  rejectionMinRecords: 20,
  windowMs: 15 * 60_000,
};

const at = (minute: number): Date => new Date(Date.UTC(2026, 11, 5, 12, minute));
const circuit: Condition = { key: 'circuit-open:harbor-housing', summary: 'harbor-housing: circuit open' };

/** Runs the checks at the given minutes, the condition holding at those in `holding`. */
function run(
  minutes: number[],
  holding: Set<number>,
): Array<{ minute: number; raised: number; cleared: number }> {
  let states: AlertState[] = [];
  return minutes.map((minute) => {
    const d = nextAlertStates(states, holding.has(minute) ? [circuit] : [], at(minute), settings.afterMs);
    states = d.states;
    return { minute, raised: d.raised.length, cleared: d.cleared.length };
  });
}

describe('the alerts debounce', () => {
  it('raises a condition once it has held for the debounce, once however long it holds, and clears it when it stops', () => {
    const steps = run([0, 1, 4, 5, 6, 30, 31], new Set([0, 1, 4, 5, 6, 30]));
    expect(steps.filter((s) => s.raised).map((s) => s.minute)).toEqual([5]);
    expect(steps.filter((s) => s.cleared).map((s) => s.minute)).toEqual([31]);
  });

  it('forgets a condition that stops before it was raised, so a flapping one waits again', () => {
    const steps = run([0, 3, 4, 6, 10, 11], new Set([0, 3, 6, 10, 11]));
    // Held at 0 and 3, gone at 4: never raised; back at 6, so raised at 11, not at 5.
    expect(steps.filter((s) => s.raised).map((s) => s.minute)).toEqual([11]);
    expect(steps.every((s) => s.cleared === 0)).toBe(true);
  });

  it('raises at once with no debounce', () => {
    expect(nextAlertStates([], [circuit], at(0), 0).raised).toHaveLength(1);
  });
});

describe('alert conditions', () => {
  it('holds for deep or old queues, new dead letters, open circuits and jumping rejection rates', () => {
    const held = conditionsFrom(
      {
        queues: [
          { queue: 'ingest', backlog: 101, failed: 3, failedAtWindowStart: 3 },
          { queue: 'plan-changes', backlog: 2, oldestWaitingMs: 11 * 60_000, failed: 0 },
          { queue: 'deliveries-harbor-housing', backlog: 0, failed: 5, failedAtWindowStart: 2 },
          { queue: 'coordination', backlog: 100, oldestWaitingMs: 60_000, failed: 9 },
        ],
        openCircuits: ['harbor-housing'],
        received: [
          { partnerId: 'sunrise-hcbs', records: 40, rejected: 9 },
          { partnerId: 'northside-bh', records: 40, rejected: 8 },
          { partnerId: 'tiny', records: 3, rejected: 3 },
        ],
      },
      settings,
    );
    expect(held.map((c) => c.key)).toEqual([
      'queue-depth:ingest',
      'queue-age:plan-changes',
      'dead-letters:deliveries-harbor-housing',
      'circuit-open:harbor-housing',
      'rejection-rate:sunrise-hcbs',
    ]);
    expect(held.find((c) => c.key.startsWith('dead-letters'))!.summary).toContain('3 new dead letters');
  });
});
