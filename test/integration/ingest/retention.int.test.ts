/**
 * Issue 13: what the hub keeps of partners' data is bounded. Rejected records expire after their
 * retention; the traffic recording keeps a bounded number of bounded batches and expires. Real Redis.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import type { QueueEvents } from 'bullmq';
import { PartnerRegistry } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import { IngestService } from '../../../src/ingest/ingest-service.js';
import { RejectedStore } from '../../../src/ingest/rejected-store.js';
import { storeKeyPrefix } from '../../../src/queues/connection.js';
import { createLogger } from '../../../src/logging/logger.js';
import type { IngestQueue } from '../../../src/ingest/ingest.queue.js';
import { EVV_HEADER } from '../../fixtures/ingest/samples.js';
import { MAX_RECORDED_BYTES, TrafficRecorder } from '../../../src/ingest/traffic-recorder.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testRedis } from '../../support/test-env.js';

describe('retention of what partners sent', () => {
  const prefix = testPrefix();
  const redis = testRedis();

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  const rejection = (rejectedAt: string) => ({
    partnerId: 'sunrise-hcbs',
    format: 'evv-csv',
    location: 'row 2',
    issues: [{ field: 'VisitID', message: 'is required' }],
    raw: 'V1,,x',
    stage: 'parse' as const,
    rejectedAt,
  });

  it('gives each rejection an expiry, and drops from the list those past their retention', async () => {
    const store = new RejectedStore(redis, prefix, 30);
    const old = await store.add(rejection('2026-01-01T00:00:00Z'));
    const ttl = await redis.ttl(`${storeKeyPrefix(redis, prefix, 'rejected')}:rejected:${old.id}`);
    expect(ttl).toBeGreaterThan(29 * 24 * 3600);
    expect(ttl).toBeLessThanOrEqual(30 * 24 * 3600);
    const recent = await store.add(rejection('2026-03-01T00:00:00Z'));
    const ids = (await store.list({ limit: 10 })).map((r) => r.id);
    expect(ids).toEqual([recent.id]);
  });

  it('records batches up to a size, at most a count of them, with an expiry', async () => {
    const recorder = new TrafficRecorder(redis, prefix, 3);
    await recorder.record('harbor-housing', 'hmis-csv', Buffer.alloc(MAX_RECORDED_BYTES + 1));
    expect(await recorder.list('harbor-housing')).toHaveLength(0);
    for (let i = 0; i < 5; i++) {
      await recorder.record('harbor-housing', 'hmis-csv', Buffer.from(`batch ${i}`));
    }
    const kept = await recorder.list('harbor-housing');
    expect(kept.map((b) => b.body.toString())).toEqual(['batch 4', 'batch 3', 'batch 2']);
    expect(await redis.ttl(recorder.key('harbor-housing'))).toBeGreaterThan(0);
  });

  it('keeps one rejection for a bad record however often it is resent', async () => {
    const rejected = new RejectedStore(redis, `${prefix}:resend`);
    const service = new IngestService({
      partners: new PartnerRegistry([
        { id: 'sunrise-hcbs', name: 'Sunrise', kind: 'hcbs-provider', inbound: { formats: ['evv-csv'] } },
      ]),
      formats: defaultFormats(),
      queue: { add: async () => ({}), getJob: async () => undefined } as unknown as IngestQueue,
      queueEvents: {} as QueueEvents,
      rejected,
      logger: createLogger('silent'),
      identifierBase: 'https://carecoord.example.org',
    });
    const bad = Buffer.from(`${EVV_HEADER}\r\nV-1,,,T1019,CG-1,not-a-time,,,,COMPLETED,,\r\n`);
    for (let i = 0; i < 3; i++) {
      const report = await service.ingest('sunrise-hcbs', 'evv-csv', bad);
      expect(report.records.map((r) => r.status)).toEqual(['rejected']);
    }
    expect(await rejected.list({ limit: 100 })).toHaveLength(1);
  });
});
