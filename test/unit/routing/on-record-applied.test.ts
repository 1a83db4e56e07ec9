import { describe, expect, it } from '@jest/globals';
import type { CarePlan, Provenance, Resource, Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { onRecordApplied, type OnAppliedDeps } from '../../../src/routing/on-record-applied.js';
import type { WrittenVersion } from '../../../src/routing/plan-content.js';

const task = (code: string): Task => ({
  resourceType: 'Task',
  status: 'completed',
  intent: 'order',
  code: { coding: [{ system: CODE_SYSTEM.taskCode, code }] },
});

/** After-write dependencies whose FHIR server records each read (and has nothing to read). */
function deps() {
  const reads: string[] = [];
  const d = {
    fhir: {
      read: async (type: string, id: string) => {
        reads.push(`${type}/${id}`);
        return { resourceType: type, id };
      },
    },
    identifierBase: 'https://carecoord.example.org',
    now: () => new Date('2026-12-06T12:00:00Z'),
    enqueuePlanChange: async () => undefined,
    enqueueCoordination: async () => undefined,
  } as unknown as OnAppliedDeps;
  return { d, reads };
}

const outcome = {
  patient: 'Patient/p1',
  written: { 'urn:uuid:t1': 'Task/t1' },
  versions: { 'Task/t1': '2' },
  events: [],
  provenance: 'Provenance/prov-1',
};

describe('after a record is written', () => {
  it('does not read back a Task the record sent as something other than an acknowledgment', async () => {
    const { d, reads } = deps();
    const sent = new Map<string, Resource>([['Task/t1', task('housing-follow-up')]]);
    await onRecordApplied(d, outcome, 'harbor-housing', sent);
    expect(reads).toEqual([]);
  });

  it('reads back an acknowledgment Task the record sent, and a Task it cannot tell', async () => {
    for (const sent of [
      new Map<string, Resource>([['Task/t1', task('acknowledge-plan-change')]]),
      new Map(),
    ]) {
      const { d, reads } = deps();
      await onRecordApplied(d, outcome, 'northside-bh', sent);
      expect(reads).toEqual(['Task/t1']);
    }
  });
});

describe('a plan version the record wrote', () => {
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    id: 'cp1',
    meta: { versionId: '3', lastUpdated: '2026-12-06T12:00:00Z' },
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/p1' },
  };
  const provenance: Provenance = {
    resourceType: 'Provenance',
    id: 'prov-1',
    recorded: '2026-12-06T12:00:00Z',
    target: [{ reference: 'CarePlan/cp1' }],
    agent: [{ who: { reference: 'Organization/sunrise-hcbs' } }],
  };
  const wrote = {
    ...outcome,
    written: { 'urn:uuid:cp': 'CarePlan/cp1' },
    versions: { 'CarePlan/cp1': '3' },
    stored: { 'CarePlan/cp1': plan, 'Provenance/prov-1': provenance },
    participantIdentifiers: [{ system: 's', value: 'v' }],
    careTeam: null,
  };

  /** Runs the step and returns what it kept for the capture, by plan and version. */
  async function kept(record: Parameters<typeof onRecordApplied>[1]) {
    const { d } = deps();
    const entries = new Map<string, WrittenVersion>();
    const queued: string[] = [];
    const withCache = {
      ...d,
      content: {
        putWritten: async (id: string, v: string, w: WrittenVersion) => entries.set(`${id}|${v}`, w),
      },
      enqueuePlanChange: async (data: { carePlanId: string; version: string }) =>
        queued.push(`${data.carePlanId}|${data.version}`),
    } as unknown as OnAppliedDeps;
    await onRecordApplied(withCache, record, 'sunrise-hcbs');
    expect(queued).toEqual(['cp1|3']);
    return entries;
  }

  it('is kept for its capture with the participant, the team and the Provenance', async () => {
    expect((await kept(wrote)).get('cp1|3')).toEqual({
      plan,
      source: provenance,
      identifiers: wrote.participantIdentifiers,
      careTeam: null,
    });
  });

  it("is not kept when the write did not know all of it, or the plan is not the participant's", async () => {
    const { participantIdentifiers: _, ...unknownPerson } = wrote;
    const groupPlan = { ...plan, subject: { reference: 'Group/g1' } };
    const olderStored = { ...plan, meta: { versionId: '2' } };
    for (const record of [
      unknownPerson,
      { ...wrote, stored: { 'CarePlan/cp1': plan } },
      { ...wrote, stored: { ...wrote.stored, 'CarePlan/cp1': groupPlan } },
      { ...wrote, stored: { ...wrote.stored, 'CarePlan/cp1': olderStored } },
    ]) {
      expect((await kept(record)).size).toBe(0);
    }
  });
});
