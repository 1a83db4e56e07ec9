import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { CarePlan, Communication, Patient, Provenance, Resource } from 'fhir/r4.js';
import { loadPartners } from '../../../src/config/partners.js';
import type { FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import { capturePlanChange, noticeIdOf } from '../../../src/routing/capture-plan-change.js';
import { contentOf } from '../../../src/routing/deliver-plan-change.js';
import type { CapturedVersion, PlanContentCache, WrittenVersion } from '../../../src/routing/plan-content.js';

const BASE = 'https://carecoord.example.org';
const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

function plan(version: string, hours: number): CarePlan {
  return {
    resourceType: 'CarePlan',
    id: '7',
    meta: { versionId: version, lastUpdated: '2026-12-06T10:00:00Z' },
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/1' },
    activity: [{ detail: { status: 'scheduled', description: `Personal care ${hours} h/week` } }],
  };
}
const NOTICE: Communication = { resourceType: 'Communication', id: 'notice-7-v2', status: 'completed' };
const PATIENT: Patient = { resourceType: 'Patient', id: '1', identifier: [{ system: 's', value: 'v' }] };
const SOURCE: Provenance = {
  resourceType: 'Provenance',
  id: 'p1',
  recorded: '2026-12-06T10:00:00Z',
  target: [],
  agent: [{ who: { reference: 'Organization/sunrise-hcbs' } }],
};

/** A FHIR server that answers from `versions` and counts every call by kind. */
function server(versions: Record<string, CarePlan>) {
  const calls: string[] = [];
  const byType: Record<string, Resource> = { Communication: NOTICE, Patient: PATIENT, Provenance: SOURCE };
  const fhir = {
    vread: async (_type: string, _id: string, version: string) => {
      calls.push(`vread CarePlan ${version}`);
      return versions[version];
    },
    read: async (type: string) => {
      calls.push(`read ${type}`);
      return byType[type];
    },
    readIfPresent: async (type: string) => {
      calls.push(`read ${type}`);
      return byType[type];
    },
    search: async (type: string) => {
      calls.push(`search ${type}`);
      return [];
    },
  } as unknown as FhirGateway;
  return { fhir, calls };
}

function cacheOf(
  entries: Record<string, CapturedVersion>,
  written: Record<string, WrittenVersion> = {},
): PlanContentCache {
  return {
    get: async (id: string, v: string) => entries[`${id}|${v}`],
    written: async (id: string, v: string) => written[`${id}|${v}`],
  } as unknown as PlanContentCache;
}

const REQ = {
  partnerId: 'harbor-housing',
  carePlanId: '7',
  version: '2',
  notice: 'Communication/notice-7-v2',
  patient: 'Patient/1',
  altersDelivery: true,
};

describe('the content a delivery is built from', () => {
  it('is what the plan-change job captured, with no read of the FHIR server', async () => {
    const { fhir, calls } = server({});
    const captured = { plan: plan('2', 12), notice: NOTICE, identifiers: PATIENT.identifier! };
    await expect(contentOf(fhir, cacheOf({ '7|2': captured }), REQ)).resolves.toEqual(captured);
    expect(calls).toEqual([]);
  });

  it('is read from the server when the cache no longer holds it', async () => {
    const { fhir, calls } = server({ '2': plan('2', 12) });
    const content = await contentOf(fhir, cacheOf({}), REQ);
    expect(content).toEqual({ plan: plan('2', 12), notice: NOTICE, identifiers: PATIENT.identifier });
    expect(calls.sort()).toEqual(['read Communication', 'read Patient', 'vread CarePlan 2']);
  });
});

describe('capturing a plan version', () => {
  const deps = async (fhir: FhirGateway, cache: PlanContentCache) => ({
    fhir,
    content: cache,
    identifierBase: BASE,
    partners: await loadPartners(path.join(REPO_ROOT, 'config/partners')),
  });

  it('diffs against the cached previous version without reading it back', async () => {
    const { fhir, calls } = server({ '2': plan('2', 12), '1': plan('1', 99) });
    const cache = cacheOf({ '7|1': { plan: plan('1', 10), notice: NOTICE, identifiers: [] } });
    const change = await capturePlanChange(await deps(fhir, cache), {
      carePlanId: '7',
      version: '2',
      sourceProvenance: 'Provenance/p1',
      patient: 'Patient/1',
    });
    expect(calls).not.toContain('vread CarePlan 1');
    expect(JSON.stringify(change.diff)).toContain('10');
    expect(change.changedBy).toBe('sunrise-hcbs');
    expect(change.identifiers).toEqual(PATIENT.identifier);
    expect(change.notice.id).toBe(noticeIdOf('7', '2'));
    expect(change.provenance.entity?.[0]?.what.reference).toBe('CarePlan/7/_history/1');
  });

  it('takes a version the hub wrote from what the write kept, reading nothing', async () => {
    const { fhir, calls } = server({ '2': plan('2', 99), '1': plan('1', 99) });
    const team = {
      resourceType: 'CareTeam' as const,
      id: 'team-1',
      subject: { reference: 'Patient/1' },
      participant: [{ member: { reference: 'Organization/harbor-housing' } }],
    };
    const written: WrittenVersion = {
      plan: plan('2', 12),
      identifiers: [{ system: 's', value: 'written' }],
      careTeam: team,
      source: SOURCE,
    };
    const cache = cacheOf(
      { '7|1': { plan: plan('1', 10), notice: NOTICE, identifiers: [] } },
      { '7|2': written },
    );
    const change = await capturePlanChange(await deps(fhir, cache), {
      carePlanId: '7',
      version: '2',
      sourceProvenance: 'Provenance/p1',
      patient: 'Patient/1',
    });
    expect(calls).toEqual([]);
    expect(JSON.stringify(change.diff)).toContain('12');
    expect(change.changedBy).toBe('sunrise-hcbs');
    expect(change.identifiers).toEqual(written.identifiers);
    expect(change.recipients).toEqual(['harbor-housing']);
  });

  it('reads a version the hub wrote when what the write kept is gone', async () => {
    const { fhir, calls } = server({ '2': plan('2', 12) });
    const cache = cacheOf({ '7|1': { plan: plan('1', 10), notice: NOTICE, identifiers: [] } });
    await capturePlanChange(await deps(fhir, cache), {
      carePlanId: '7',
      version: '2',
      sourceProvenance: 'Provenance/p1',
      patient: 'Patient/1',
    });
    expect(calls.sort()).toEqual(['read Patient', 'read Provenance', 'search CareTeam', 'vread CarePlan 2']);
  });

  it('reads the previous version from the server on a miss', async () => {
    const { fhir, calls } = server({ '2': plan('2', 12), '1': plan('1', 10) });
    await capturePlanChange(await deps(fhir, cacheOf({})), { carePlanId: '7', version: '2' });
    expect(calls).toContain('vread CarePlan 1');
  });

  it("captures a plan about a Group: nobody's identifiers, no participant read", async () => {
    const group = { ...plan('2', 12), subject: { reference: 'Group/g1' } };
    const { fhir, calls } = server({ '2': group, '1': plan('1', 10) });
    const change = await capturePlanChange(await deps(fhir, cacheOf({})), { carePlanId: '7', version: '2' });
    expect(change.identifiers).toEqual([]);
    expect(calls).not.toContain('read Patient');
  });
});

describe('the notice id', () => {
  it('names plan and version, and stays a valid FHIR id for a long plan id', () => {
    expect(noticeIdOf('7', '2')).toBe('notice-7-v2');
    const long = noticeIdOf('x'.repeat(64), '12');
    expect(long).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(long).not.toBe(noticeIdOf('x'.repeat(64), '13'));
  });
});
