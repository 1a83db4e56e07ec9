import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { Task } from 'fhir/r4.js';
import { loadPartners, type PartnerRegistry } from '../../../src/config/partners.js';
import { guardInbound } from '../../../src/coordination/inbound-guard.js';
import type { FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import type { MappedRecord } from '../../../src/mappers/types.js';

const root = path.resolve(import.meta.dirname, '../../..');
const IDS = [{ system: 'https://sunrise-hcbs.example.org/client', value: 'C1' }];

/** A service plan without its change control: the guard then asks for open reviews. */
const record: MappedRecord = {
  participant: { identifiers: IDS },
  writes: [
    {
      fullUrl: 'urn:uuid:plan',
      identifier: { system: 'https://sunrise-hcbs.example.org/plan', value: 'P1' },
      resource: {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject: { reference: 'Patient/x' },
      },
    },
  ],
  events: [],
};

const review = (patient: string): Task => ({
  resourceType: 'Task',
  id: `review-${patient}`,
  status: 'requested',
  intent: 'order',
  for: { reference: `Patient/${patient}` },
});

/** A FHIR server holding a review for `p1` and one for `p2`; it may refuse chained searches. */
function server(refuseChained = false) {
  const searches: Array<Record<string, string>> = [];
  const fhir = {
    search: async (_type: string, params: Record<string, string>) => {
      searches.push(params);
      if (params['patient:Patient.identifier']) {
        if (refuseChained) {
          throw new Error('chained search not supported');
        }
        return [review('p1'), review('p2')];
      }
      return params.patient ? [review(params.patient.split('/')[1]!)] : [];
    },
  } as unknown as FhirGateway;
  return { fhir, searches };
}

describe('the inbound guard on a plan without its change control', () => {
  let partners: PartnerRegistry;
  beforeAll(async () => {
    partners = await loadPartners(path.join(root, 'config/partners'), {});
  });
  const guard = (fhir: FhirGateway) =>
    guardInbound(
      { fhir, partners, config: { rights: { rights: {}, actions: [] } }, now: () => new Date() },
      partners.get('sunrise-hcbs')!,
      record,
      { partnerId: 'sunrise-hcbs', format: 'service-plan', sourceId: 's', location: 'plan 1' },
    );

  it("looks up reviews by the participant's identifiers before it is resolved, and keeps its own", async () => {
    const { fhir, searches } = server();
    const check = await guard(fhir);
    let resolve!: (p: string) => void;
    const patient = new Promise<string>((r) => (resolve = r));
    const checked = check({ identifiers: IDS, patient });
    await new Promise((r) => setImmediate(r));
    expect(searches).toHaveLength(1); // started while the participant is still being resolved
    resolve('Patient/p3');
    await expect(checked).resolves.toBeUndefined(); // p1's and p2's reviews are not p3's
    const refused = check({ identifiers: IDS, patient: Promise.resolve('Patient/p2') });
    await expect(refused).rejects.toThrow(/review-p2/);
  });

  it('searches by the participant when the server refuses the chained search, or no identifiers find it', async () => {
    for (const [fhirServer, identifiers] of [
      [server(true), IDS],
      [server(), undefined],
    ] as const) {
      const check = await guard(fhirServer.fhir);
      await expect(
        check({ ...(identifiers ? { identifiers } : {}), patient: Promise.resolve('Patient/p4') }),
      ).rejects.toThrow(/review-p4/);
      expect(fhirServer.searches.at(-1)?.patient).toBe('Patient/p4');
    }
  });
});
