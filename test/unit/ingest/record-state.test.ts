import { describe, expect, it } from '@jest/globals';
import type { QueueEvents } from 'bullmq';
import { PartnerRegistry } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import { IngestService } from '../../../src/ingest/ingest-service.js';
import type { IngestQueue } from '../../../src/ingest/ingest.queue.js';
import type { RejectedStore } from '../../../src/ingest/rejected-store.js';
import { createLogger } from '../../../src/logging/logger.js';

const data = { partnerId: 'acme-hcbs', location: 'row 2', sourceId: 'V-1', record: {} };
const written = { patient: 'Patient/1', written: { visit: 'Encounter/2' } };

/**
 * A job read while it runs, that completes before its state is asked: BullMQ's job object keeps
 * what was read (no return value), the state is read afresh ("completed").
 */
function completingQueue(): IngestQueue {
  let reads = 0;
  return {
    getJob: async () => {
      reads++;
      const done = reads > 1;
      return { data, returnvalue: done ? written : null, isCompleted: async () => true };
    },
  } as unknown as IngestQueue;
}

describe('IngestService.recordState', () => {
  it('names what an applied record wrote, even when the job completed while it was being read', async () => {
    const service = new IngestService({
      partners: new PartnerRegistry([]),
      formats: defaultFormats(),
      queue: completingQueue(),
      queueEvents: {} as QueueEvents,
      rejected: { get: async () => undefined } as unknown as RejectedStore,
      logger: createLogger('silent'),
      identifierBase: 'https://carecoord.example.org',
    });
    const state = await service.recordState('job-1');
    expect(state?.result).toMatchObject({ status: 'applied', outcome: written });
  });
});
