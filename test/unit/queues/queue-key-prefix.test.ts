import { describe, expect, it } from '@jest/globals';
import { queueKeyPrefix } from '../../../src/queues/queue-factory.js';
import { clusterSeeds } from '../../../src/queues/connection.js';

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

describe('clusterSeeds', () => {
  it('reads comma-separated seed URLs, ignoring spaces and empty entries', () => {
    expect(clusterSeeds('redis://a:7001, redis://b:7002,')).toEqual(['redis://a:7001', 'redis://b:7002']);
    expect(clusterSeeds('redis://one:6379')).toEqual(['redis://one:6379']);
  });
});
