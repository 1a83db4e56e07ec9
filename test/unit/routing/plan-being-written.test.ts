/**
 * The plans the hub is about to write, as the FHIR server's notifications ask about them
 * (README, "Routing plan changes"): by identifier, whatever else a notification's body holds.
 */
import { describe, expect, it } from '@jest/globals';
import type { Identifier } from 'fhir/r4.js';
import type { RedisClient } from '../../../src/queues/connection.js';
import { PlanContentCache } from '../../../src/routing/plan-content.js';

/** Just what the cache uses of Redis here. */
function fakeRedis(): RedisClient {
  const keys = new Map<string, string>();
  return {
    set: async (key: string, value: string) => void keys.set(key, value),
    exists: async (...asked: string[]) => asked.filter((k) => keys.has(k)).length,
  } as unknown as RedisClient;
}

describe('plans being written', () => {
  const plan = { system: 'https://carecoord.example.org/sid/sunrise-hcbs/service-plan', value: 'SP-1' };

  it('knows a plan by any identifier the write noted, and no other', async () => {
    const cache = new PlanContentCache(fakeRedis(), '{hub}');
    await cache.markBeingWritten([plan]);
    expect(await cache.beingWritten([{ system: 'other', value: 'x' }, plan])).toBe(true);
    expect(await cache.beingWritten([{ ...plan, value: 'SP-2' }])).toBe(false);
    expect(await cache.beingWritten([])).toBe(false);
  });

  it('passes over what is not an identifier in a notification body', async () => {
    const cache = new PlanContentCache(fakeRedis(), '{hub}');
    await cache.markBeingWritten([plan]);
    const junk = [null, 'SP-1', { system: 3, value: 'SP-1' }] as unknown as Identifier[];
    expect(await cache.beingWritten(junk)).toBe(false);
    expect(await cache.beingWritten({ system: plan.system } as unknown as Identifier[])).toBe(false);
  });
});
