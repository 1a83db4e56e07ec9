/**
 * Issue 13: a large HMIS export is read on a thread of its own, so the hub keeps answering (HTTP,
 * MLLP, queue workers) while it reads. Measured by how often a 10 ms timer gets to run during the
 * ingest call, against how often it would if the loop were free: relative, not a time limit.
 */
import { describe, expect, it } from '@jest/globals';
import type { QueueEvents } from 'bullmq';
import { PartnerRegistry } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import { IngestService } from '../../../src/ingest/ingest-service.js';
import type { RejectedStore } from '../../../src/ingest/rejected-store.js';
import { createLogger } from '../../../src/logging/logger.js';
import type { IngestQueue } from '../../../src/ingest/ingest.queue.js';
import { hmisFiles, newPerson } from '../../fixtures/ingest/samples.js';
import AdmZip from 'adm-zip';

describe('reading a large HMIS export', () => {
  it('leaves the event loop free while the export is read', async () => {
    const person = newPerson();
    const files = hmisFiles(person);
    const [header, row] = files['Client.csv'].trim().split('\r\n');
    const rows = Array.from({ length: 6000 }, (_, i) => row!.replace(person.personalId, `P${i}`));
    const zip = new AdmZip();
    for (const [name, text] of Object.entries({ ...files, 'Client.csv': [header, ...rows].join('\r\n') })) {
      zip.addFile(`export/${name}`, Buffer.from(text, 'utf8'));
    }
    const partners = new PartnerRegistry([
      { id: 'harbor-housing', name: 'Harbor', kind: 'housing', inbound: { formats: ['hmis-csv'] } },
    ]);
    const service = new IngestService({
      partners,
      formats: defaultFormats(),
      queue: { add: async () => ({}), getJob: async () => undefined } as unknown as IngestQueue,
      queueEvents: {} as QueueEvents,
      rejected: { add: async (r: object) => ({ ...r, id: 'x' }) } as unknown as RejectedStore,
      logger: createLogger('silent'),
      identifierBase: 'https://carecoord.example.org',
    });

    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    let parsedAt = 0;
    const parsing = service.ingest('harbor-housing', 'hmis-csv', zip.toBuffer()).then((report) => {
      parsedAt = Date.now();
      return report;
    });
    const report = await parsing;
    clearInterval(timer);
    const elapsed = parsedAt - started;
    expect(report.records.length).toBeGreaterThan(1000);
    // A free loop ticks about elapsed/10 times; a blocked one not at all while it reads.
    expect(ticks).toBeGreaterThan((elapsed / 10) * 0.3);
  });
});
