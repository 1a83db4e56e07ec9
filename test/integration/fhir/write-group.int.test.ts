import { describe, expect, it } from '@jest/globals';
import type { Bundle, BundleEntry, Flag, Patient } from 'fhir/r4.js';
import { FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import { FhirServerError } from '../../../src/fhir/fhir-errors.js';
import { fhirBaseUrl, unique } from '../../support/test-env.js';

// Transactions that wait for a slot go to the real server as one (src/fhir/write-group.ts): each
// caller's records are written and it is answered with its own entries; one refused member leaves
// the others written.

/** One gateway slot: the first transaction goes alone, those issued while it is out wait. */
const grouping = (): FhirGateway =>
  new FhirGateway({ baseUrl: fhirBaseUrl(), retry: { retries: 1, baseDelayMs: 10 }, writesInFlight: 1 });

/** A record's transaction: its participant made if new, a Flag on it, and a search of its Flags. */
function record(tag: string, patientReference?: string): BundleEntry[] {
  const patientUrl = `urn:uuid:${crypto.randomUUID()}`;
  return [
    {
      fullUrl: patientUrl,
      resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:group', value: tag }] },
      request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:test:group|${tag}` },
    },
    {
      resource: {
        resourceType: 'Flag',
        status: 'active',
        code: { text: tag },
        subject: { reference: patientReference ?? patientUrl },
        identifier: [{ system: 'urn:test:group-flag', value: tag }],
      } satisfies Flag,
      request: { method: 'PUT', url: `Flag?identifier=urn:test:group-flag|${tag}` },
    },
    { request: { method: 'GET', url: `Flag?identifier=urn:test:group-flag|${tag}` } },
  ];
}

const transaction = (fhir: FhirGateway, entry: BundleEntry[]): Promise<Bundle> =>
  fhir.transaction({ resourceType: 'Bundle', type: 'transaction', entry }, { returnResources: true });

describe('transactions sent together', () => {
  it('writes each waiting record in one transaction and answers each with its own entries', async () => {
    const fhir = grouping();
    const tags = ['first', 'a', 'b', 'c'].map((t) => unique(t));
    const answers = await Promise.all(tags.map((tag) => transaction(fhir, record(tag))));

    for (const [i, answer] of answers.entries()) {
      expect(answer.entry).toHaveLength(3);
      const patient = answer.entry![0]!.resource as Patient;
      expect(patient.identifier![0]!.value).toBe(tags[i]);
      expect((answer.entry![1]!.resource as Flag).subject.reference).toBe(`Patient/${patient.id}`);
      // The record's own search, run after the writes, found its Flag only.
      const found = answer.entry![2]!.resource as Bundle;
      expect(found.entry?.map((e) => (e.resource as Flag).code.text)).toEqual([tags[i]]);
    }
    // The three that waited were stored by one transaction (HAPI stamps a transaction's resources
    // with its one time); the first went alone before them.
    const stamped = answers.map((a) => (a.entry![1]!.resource as Flag).meta!.lastUpdated);
    expect(new Set(stamped.slice(1)).size).toBe(1);
    expect(stamped[0]).not.toBe(stamped[1]);
  });

  it('writes the others of a group the server refuses, and refuses the one it would refuse alone', async () => {
    const fhir = grouping();
    const tags = ['first', 'good', 'bad', 'also-good'].map((t) => unique(t));
    const sends = tags.map((tag) =>
      transaction(fhir, record(tag, tag.startsWith('bad') ? `Patient/${unique('missing')}` : undefined)),
    );
    const settled = await Promise.allSettled(sends);

    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const refusal = (settled[2] as PromiseRejectedResult).reason as FhirServerError;
    expect(refusal).toBeInstanceOf(FhirServerError);
    expect(refusal.httpStatus).toBeGreaterThanOrEqual(400);
    expect(refusal.httpStatus).toBeLessThan(500);
    const plain = new FhirGateway({ baseUrl: fhirBaseUrl() });
    for (const tag of tags) {
      const flags = await plain.search<Flag>('Flag', { identifier: `urn:test:group-flag|${tag}` });
      expect(flags).toHaveLength(tag.startsWith('bad') ? 0 : 1);
    }
  });
});
