/** What the routing keeps in Redis (delivery status, captured plan versions) is kept for a bounded time, not for ever (real Redis). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DELIVERY_STATUS_RETENTION_DAYS, DeliveryStatusStore } from '../../../src/routing/delivery-status.js';
import { PLAN_CONTENT_TTL_SECONDS, PlanContentCache } from '../../../src/routing/plan-content.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testRedis } from '../../support/test-env.js';
import { storeKeyPrefix, type RedisClient } from '../../../src/queues/connection.js';

describe('what routing keeps in Redis', () => {
  const prefix = testPrefix();
  let redis: RedisClient;

  beforeAll(() => {
    redis = testRedis();
  });

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it('expires a version’s status a set time after its last step, and keeps every step until then', async () => {
    const status = new DeliveryStatusStore(redis, prefix);
    await status.mark('77', '3', 'northside-bh', 'sent', new Date('2026-12-01T10:00:00Z'));
    await status.mark('77', '3', 'northside-bh', 'delivered', new Date('2026-12-01T10:00:01Z'));
    const ttl = await redis.ttl(`${storeKeyPrefix(redis, prefix, 'delivery-status')}:delivery-status:77:3`);
    expect(ttl).toBeGreaterThan(DELIVERY_STATUS_RETENTION_DAYS * 86400 - 60);
    expect(ttl).toBeLessThanOrEqual(DELIVERY_STATUS_RETENTION_DAYS * 86400);
    expect((await status.list('77', '3'))[0]).toMatchObject({
      partnerId: 'northside-bh',
      state: 'delivered',
    });
  });

  it('keeps a captured plan version for a bounded time, and one it cannot read is a miss, not an error', async () => {
    const cache = new PlanContentCache(redis, prefix);
    const captured = {
      plan: {
        resourceType: 'CarePlan' as const,
        status: 'active' as const,
        intent: 'plan' as const,
        subject: {},
      },
      notice: { resourceType: 'Communication' as const, status: 'completed' as const },
      identifiers: [{ system: 's', value: 'v' }],
    };
    await cache.put('77', '3', captured);
    await expect(cache.get('77', '3')).resolves.toEqual(captured);
    const ttl = await redis.ttl(`${storeKeyPrefix(redis, prefix, 'plan-content')}:plan-content:77:3`);
    expect(ttl).toBeGreaterThan(PLAN_CONTENT_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(PLAN_CONTENT_TTL_SECONDS);
    await redis.set(`${storeKeyPrefix(redis, prefix, 'plan-content')}:plan-content:77:4`, '{"plan":');
    await expect(cache.get('77', '4')).resolves.toBeUndefined();
  });
});
