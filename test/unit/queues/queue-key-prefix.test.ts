import { describe, expect, it } from '@jest/globals';
import { queueKeyPrefix } from '../../../src/queues/queue-factory.js';
import { clusterSeeds, storeKeyPrefix, type RedisClient } from '../../../src/queues/connection.js';

describe('queueKeyPrefix', () => {
  it('keeps every queue under the configured prefix on one server, where queued jobs already are', () => {
    expect(queueKeyPrefix('{hub}', 'ingest', false)).toBe('{hub}');
    expect(queueKeyPrefix('{hub}', 'deliveries-northside-bh', false)).toBe('{hub}');
  });

  it('gives each queue a hash tag of its own on a cluster, so queues spread over slots', () => {
    expect(queueKeyPrefix('{hub}', 'ingest', true)).toBe('{hub:ingest}');
    expect(queueKeyPrefix('{hub}', 'deliveries-northside-bh', true)).toBe('{hub:deliveries-northside-bh}');
    // Two queues of two deployments on one cluster never share keys.
    expect(queueKeyPrefix('{county-a}', 'ingest', true)).not.toBe(
      queueKeyPrefix('{county-b}', 'ingest', true),
    );
  });
});

describe('storeKeyPrefix', () => {
  const on = (isCluster: boolean): RedisClient => ({ isCluster }) as RedisClient;

  it("keeps every store under the hub's prefix on one server, and gives each a slot of its own on a cluster", () => {
    expect(storeKeyPrefix(on(false), '{hub}', 'messages')).toBe('{hub}');
    expect(storeKeyPrefix(on(true), '{hub}', 'messages')).toBe('{hub:messages}');
    expect(storeKeyPrefix(on(true), '{hub}', 'delivery-marks')).toBe('{hub:delivery-marks}');
  });
});

describe('clusterSeeds', () => {
  it('reads comma-separated seed URLs, ignoring spaces and empty entries', () => {
    expect(clusterSeeds('redis://a:7001, redis://b:7002,')).toEqual(['redis://a:7001', 'redis://b:7002']);
    expect(clusterSeeds('redis://one:6379')).toEqual(['redis://one:6379']);
  });
});
