import { describe, expect, it } from '@jest/globals';
import type { CarePlan } from 'fhir/r4.js';
import type { HistorySource } from '../../../src/fhir/history-checkpoint.js';
import { CATCH_UP_OVERLAP_MS, catchUpPlanChanges } from '../../../src/routing/catch-up.js';
import type { PlanChangeJobData } from '../../../src/routing/plan-changes.queue.js';

/** A FHIR server's CarePlan history, newest first as servers page it. */
function server(versions: Array<[id: string, version: string, lastUpdated: string]>, serverTime?: string) {
  const asked: Array<{ since: string; maxPages: number | undefined }> = [];
  const plans: CarePlan[] = versions.map(([id, versionId, lastUpdated]) => ({
    resourceType: 'CarePlan',
    id,
    meta: { versionId, lastUpdated },
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/1' },
  }));
  const source: HistorySource = {
    historyAsOf: async <T>(_type: string, since: string, maxPages?: number) => {
      asked.push({ since, maxPages });
      const versions = plans
        .filter((p) => Date.parse(p.meta!.lastUpdated!) >= Date.parse(since))
        .sort((a, b) => a.meta!.lastUpdated!.localeCompare(b.meta!.lastUpdated!)) as T[];
      return { versions, ...(serverTime ? { serverTime } : {}) };
    },
    latestVersionTime: async () =>
      plans
        .map((p) => p.meta!.lastUpdated!)
        .sort()
        .at(-1),
  };
  return { source, asked };
}

function store() {
  const values = new Map<string, string>();
  return {
    values,
    get: async (key: string) => values.get(key) ?? null,
    set: async (key: string, value: string) => {
      values.set(key, value);
      return 'OK' as const;
    },
  };
}

const KEY = 'p:careplan-history-checkpoint';

describe('catchUpPlanChanges', () => {
  it('starts from the newest version the server holds, on the server clock, not the hub clock', async () => {
    const { source } = server([['7', '1', '2026-12-03T09:50:00.000Z']]);
    const redis = store();
    // The hub's clock runs ten minutes ahead of the FHIR server's.
    // (The hub's clock is not asked at all.)
    await catchUpPlanChanges(source, redis, 'p', async () => undefined);
    expect(redis.values.get(KEY)).toBe('2026-12-03T09:50:00.000Z');
  });

  it('re-scans an overlap before the checkpoint, and reads every page', async () => {
    const { source, asked } = server([
      ['7', '2', '2026-12-03T09:59:40.000Z'], // committed late, stamped before the checkpoint
      ['8', '1', '2026-12-03T10:00:05.000Z'],
    ]);
    const redis = store();
    redis.values.set(KEY, '2026-12-03T10:00:00.000Z');
    const queued: PlanChangeJobData[] = [];
    await catchUpPlanChanges(source, redis, 'p', async (d) => void queued.push(d));
    expect(asked[0]!.since).toBe(
      new Date(Date.parse('2026-12-03T10:00:00.000Z') - CATCH_UP_OVERLAP_MS).toISOString(),
    );
    expect(asked[0]!.maxPages).toBe(Number.POSITIVE_INFINITY);
    expect(queued.map((q) => `${q.carePlanId}/${q.version}`)).toEqual(['7/2', '8/1']);
    expect(redis.values.get(KEY)).toBe('2026-12-03T10:00:05.000Z');
  });

  it('never acts on a version stamped before its first look, though the overlap reads it again', async () => {
    const { source } = server([['7', '1', '2026-12-03T09:58:00.000Z']]);
    const redis = store();
    const queued: PlanChangeJobData[] = [];
    await catchUpPlanChanges(source, redis, 'p', async (d) => void queued.push(d));
    await catchUpPlanChanges(source, redis, 'p', async (d) => void queued.push(d));
    expect(queued).toEqual([]);
  });

  it("moves on to the server's time of the search, so a quiet server's last burst is not read again", async () => {
    const { source, asked } = server([['7', '2', '2026-12-03T10:00:05.000Z']], '2026-12-03T10:30:00.000Z');
    const redis = store();
    redis.values.set(KEY, '2026-12-03T10:00:00.000Z');
    await catchUpPlanChanges(source, redis, 'p', async () => undefined);
    expect(redis.values.get(KEY)).toBe('2026-12-03T10:30:00.000Z');
    await catchUpPlanChanges(source, redis, 'p', async () => undefined);
    expect(asked[1]!.since).toBe(
      new Date(Date.parse('2026-12-03T10:30:00.000Z') - CATCH_UP_OVERLAP_MS).toISOString(),
    );
  });

  it('never moves the checkpoint back', async () => {
    const { source } = server([['7', '2', '2026-12-03T09:59:40.000Z']]);
    const redis = store();
    redis.values.set(KEY, '2026-12-03T10:00:00.000Z');
    await catchUpPlanChanges(source, redis, 'p', async () => undefined);
    expect(redis.values.get(KEY)).toBe('2026-12-03T10:00:00.000Z');
  });
});
