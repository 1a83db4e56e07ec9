import { describe, expect, it } from '@jest/globals';
import type { QueueEvents } from 'bullmq';
import { PartnerRegistry } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import { IngestService } from '../../../src/ingest/ingest-service.js';
import type { RejectedStore } from '../../../src/ingest/rejected-store.js';
import type { TrafficRecorder } from '../../../src/ingest/traffic-recorder.js';
import { createLogger } from '../../../src/logging/logger.js';
import type { IngestQueue } from '../../../src/ingest/ingest.queue.js';

const partners = new PartnerRegistry([
  { id: 'acme-hcbs', name: 'Acme', kind: 'hcbs-provider', inbound: { formats: ['evv-csv'] } },
]);
const body = Buffer.from(
  'VisitID,MedicaidID,ServiceCode,ScheduledStart,ScheduledEnd,ActualStart,ActualEnd,VisitStatus\n' +
    'V-1,QX7781234,T1019,2025-03-03T09:00,2025-03-03T11:00,2025-03-03T09:04,2025-03-03T11:02,COMPLETED\n',
);

function service(traffic: Pick<TrafficRecorder, 'record'>): IngestService {
  return new IngestService({
    partners,
    formats: defaultFormats(),
    queue: { add: async () => ({}), getJob: async () => undefined } as unknown as IngestQueue,
    queueEvents: {} as QueueEvents,
    rejected: {} as RejectedStore,
    logger: createLogger('silent'),
    identifierBase: 'https://carecoord.example.org',
    traffic: traffic as TrafficRecorder,
  });
}

/** Every inbound batch is recorded for the mapping release gate (src/cli/mapping-gate.ts). */
describe('IngestService traffic recording', () => {
  it('records the batch as received, once', async () => {
    const calls: unknown[][] = [];
    const report = await service({
      record: async (...args: unknown[]) => {
        calls.push(args);
      },
    }).ingest('acme-hcbs', 'evv-csv', body);
    expect(report.records).toEqual([expect.objectContaining({ status: 'accepted', sourceId: 'V-1' })]);
    expect(calls).toEqual([['acme-hcbs', 'evv-csv', body, expect.any(String)]]);
  });

  it('takes the batch even when recording fails, and records nothing for a refused partner', async () => {
    let calls = 0;
    const failing = service({
      record: async () => {
        calls++;
        throw new Error('redis down');
      },
    });
    expect((await failing.ingest('acme-hcbs', 'evv-csv', body)).records).toHaveLength(1);
    await expect(failing.ingest('nobody', 'evv-csv', body)).rejects.toThrow('Unknown partner');
    expect(calls).toBe(1);
  });
});
