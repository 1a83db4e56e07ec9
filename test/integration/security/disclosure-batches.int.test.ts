/**
 * Disclosure AuditEvents are written in batches (security/disclosures.queue.ts): what waits when a
 * job runs goes in one transaction; no disclosure is written by two jobs or left out of both;
 * a transient failure writes the same batch again; a refused disclosure holds back no other and
 * is kept for the job's replay. Real Redis; the FHIR server is a stand-in that counts writes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle } from 'fhir/r4.js';
import { FhirServerError } from '../../../src/fhir/fhir-errors.js';
import type { FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import type { RedisClient } from '../../../src/queues/connection.js';
import {
  DisclosureBacklog,
  recordDisclosures,
  type DisclosureRecord,
} from '../../../src/security/disclosures.queue.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testRedis } from '../../support/test-env.js';

const disclosure = (n: number): DisclosureRecord => ({
  id: `disclosure-${n}`,
  partnerId: 'northside-bh',
  patient: 'Patient/p1',
  what: `CarePlan/cp1/_history/${n}`,
  labels: [],
  at: '2026-12-06T12:00:00Z',
});

/** A FHIR server that records each transaction's AuditEvent ids; `refuse` answers 4xx or 5xx. */
function server(refuse: (ids: string[]) => 400 | 503 | undefined = () => undefined) {
  const written: string[][] = [];
  const fhir = {
    transaction: async (bundle: Bundle) => {
      const ids = (bundle.entry ?? []).map((e) => e.resource!.id!);
      const status = refuse(ids);
      if (status) {
        throw new FhirServerError(status, 'POST transaction', undefined);
      }
      written.push(ids);
      return { resourceType: 'Bundle', type: 'transaction-response', entry: [] };
    },
  } as unknown as FhirGateway;
  return { fhir, written };
}

describe('disclosure batches', () => {
  const prefix = testPrefix();
  let redis: RedisClient;
  let backlog: DisclosureBacklog;

  beforeAll(() => {
    redis = testRedis();
    backlog = new DisclosureBacklog(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
    await dropPrefix(prefix);
  });

  it('writes what waits in one transaction, and a later job finds nothing left', async () => {
    const { fhir, written } = server();
    for (let n = 1; n <= 10; n++) {
      await backlog.add([disclosure(n)]);
    }
    await Promise.all([recordDisclosures(fhir, backlog, 'j1'), recordDisclosures(fhir, backlog, 'j2')]);
    await recordDisclosures(fhir, backlog, 'j3');
    // Each disclosure written once, whichever job took it; at most two transactions.
    expect(written.flat().sort()).toEqual(Array.from({ length: 10 }, (_, i) => `disclosure-${i + 1}`).sort());
    expect(written.length).toBeLessThanOrEqual(2);
  });

  it('writes the same batch again after a transient failure', async () => {
    let failures = 1;
    const { fhir, written } = server(() => (failures-- > 0 ? 503 : undefined));
    await backlog.add([disclosure(11), disclosure(12)]);
    await expect(recordDisclosures(fhir, backlog, 'j4')).rejects.toThrow();
    await backlog.add([disclosure(13)]); // queued meanwhile: not this job's batch
    await recordDisclosures(fhir, backlog, 'j4');
    expect(written).toEqual([['disclosure-11', 'disclosure-12']]);
    await recordDisclosures(fhir, backlog, 'j5');
    expect(written).toEqual([['disclosure-11', 'disclosure-12'], ['disclosure-13']]);
  });

  it('writes the others when the server refuses one, and keeps the refused one for the replay', async () => {
    let accept = false;
    const { fhir, written } = server((ids) => (!accept && ids.includes('disclosure-15') ? 400 : undefined));
    await backlog.add([disclosure(14), disclosure(15), disclosure(16)]);
    await expect(recordDisclosures(fhir, backlog, 'j6')).rejects.toThrow(/AuditEvent\/disclosure-15/);
    expect(written.flat().sort()).toEqual(['disclosure-14', 'disclosure-16']);
    // An engineer mends the cause and replays the dead letter: only the refused one is written.
    accept = true;
    await recordDisclosures(fhir, backlog, 'j6');
    expect(written.at(-1)).toEqual(['disclosure-15']);
  });
});
