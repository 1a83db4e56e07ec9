/**
 * A record's write retried after the FHIR server had already committed it (the answer was lost, a
 * follow-up step failed, the hub process died) must not write it again: by then a newer record
 * may have changed the same resources, and writing the old one again would put its content back.
 * Found by the fault suite (test/faults): a plan version retried after a FHIR outage overwrote the
 * next version. Real HAPI.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { CarePlan, Provenance } from 'fhir/r4.js';
import path from 'node:path';
import { parseServicePlan } from '../../../src/adapters/service-plan/parse-service-plan.js';
import { loadPartners, type PartnerRegistry } from '../../../src/config/partners.js';
import {
  provenanceId,
  writeMappedRecord,
  type SourceRecord,
} from '../../../src/ingest/write-mapped-record.js';
import { servicePlanToMapped } from '../../../src/mappers/service-plan/service-plan-to-careplan.js';
import { IDENTIFIER_BASE, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';
import { REPO_ROOT, testGateway } from '../../support/test-env.js';

describe('writing a record again after the server committed it', () => {
  const fhir = testGateway();
  let partners: PartnerRegistry;

  beforeAll(async () => {
    partners = await loadPartners(path.join(REPO_ROOT, 'config/partners'), {});
  });

  function mappedVersion(person: ReturnType<typeof newPerson>, units: number) {
    const body: Record<string, unknown> = { ...servicePlan(person), planVersion: String(units) };
    (body.services as Array<Record<string, unknown>>)[0]!.serviceUnitQuantity = units;
    const [parsed] = parseServicePlan(JSON.stringify(body)).accepted;
    return servicePlanToMapped(parsed!.record, {
      partner: partners.get('sunrise-hcbs')!,
      identifierBase: IDENTIFIER_BASE,
    });
  }

  const source = (person: ReturnType<typeof newPerson>, receivedAt: string): SourceRecord => ({
    partnerId: 'sunrise-hcbs',
    format: 'service-plan',
    sourceId: `SP-${person.tag}`,
    location: 'plan 1',
    receivedAt,
  });

  it('returns the first write instead of putting back content a newer record replaced', async () => {
    const person = newPerson();
    const first = await writeMappedRecord(
      fhir,
      mappedVersion(person, 20),
      source(person, '2026-01-05T10:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    const planRef = Object.values(first.written).find((r) => r.startsWith('CarePlan/'))!;
    const planId = planRef.split('/')[1]!;
    await writeMappedRecord(
      fhir,
      mappedVersion(person, 30),
      source(person, '2026-01-05T11:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    const before = await fhir.read<CarePlan>('CarePlan', planId);

    // The first acceptance's job runs again (same record, same acceptance time).
    const retried = await writeMappedRecord(
      fhir,
      mappedVersion(person, 20),
      source(person, '2026-01-05T10:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    const after = await fhir.read<CarePlan>('CarePlan', planId);
    expect(after.meta?.versionId).toBe(before.meta?.versionId);
    expect(after.description).toMatch(/version 30$/);
    expect(retried.written).toEqual(first.written);
    expect(retried.versions).toEqual(first.versions);
    expect(retried.provenance).toBe(first.provenance);

    // The same plan version sent again later is a new acceptance, but an older version than the
    // server holds: source order keeps version 30 (README, "Order of inbound records").
    await writeMappedRecord(
      fhir,
      mappedVersion(person, 20),
      source(person, '2026-01-05T12:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    expect((await fhir.read<CarePlan>('CarePlan', planId)).description).toMatch(/version 30$/);

    // Content without a version number sent again later is a new acceptance, and is written.
    const unnumbered = mappedVersion(person, 20);
    await writeMappedRecord(
      fhir,
      { ...unnumbered, writes: unnumbered.writes.map(({ sourceVersion: _v, ...w }) => w) },
      source(person, '2026-01-05T13:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    const resent = await fhir.read<CarePlan>('CarePlan', planId);
    expect(resent.description).toMatch(/version 20$/);
    expect(Number(resent.meta?.versionId)).toBe(Number(after.meta?.versionId) + 1);
  });

  it('returns the first write of a record whose dated writes were all left out, with no events', async () => {
    // An old plan version arrives after a newer one: its write is left out, so its transaction
    // writes only the Provenance. A retry (the after-write step failed) must answer the same.
    const person = newPerson();
    await writeMappedRecord(
      fhir,
      mappedVersion(person, 30),
      source(person, '2026-01-06T10:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    const stale = source(person, '2026-01-06T11:00:00.000Z');
    const first = await writeMappedRecord(fhir, mappedVersion(person, 20), stale, IDENTIFIER_BASE);
    expect(first.events).toEqual([]);
    const retried = await writeMappedRecord(fhir, mappedVersion(person, 20), stale, IDENTIFIER_BASE);
    expect(retried.events).toEqual([]);
    expect(retried.provenance).toBe(first.provenance);
  });

  it('writes again a record whose first create lost the race to another record', async () => {
    // The first attempt of version 31 planned to create the plan, another record created it first,
    // so the attempt committed only its Provenance; then the answer was lost. The retry must not
    // take that Provenance for a write: version 31 is newer than what the server holds.
    const person = newPerson();
    await writeMappedRecord(
      fhir,
      mappedVersion(person, 30),
      source(person, '2026-01-07T10:00:00.000Z'),
      IDENTIFIER_BASE,
    );
    const [plan] = await fhir.search<CarePlan>('CarePlan', {
      identifier: `${IDENTIFIER_BASE}/sid/sunrise-hcbs/service-plan|SP-${person.tag}`,
    });
    const later = mappedVersion(person, 31);
    const lost = source(person, '2026-01-07T11:00:00.000Z');
    await fhir.update<Provenance>({
      resourceType: 'Provenance',
      id: provenanceId(lost, later),
      recorded: lost.receivedAt,
      target: [{ reference: `CarePlan/${plan!.id}` }],
      agent: [{ who: { reference: 'Organization/sunrise-hcbs' } }],
    });
    await writeMappedRecord(fhir, later, lost, IDENTIFIER_BASE);
    expect((await fhir.read<CarePlan>('CarePlan', plan!.id!)).description).toMatch(/version 31$/);
  });
});
