import { describe, expect, it } from '@jest/globals';
import type { Resource, Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { onRecordApplied, type OnAppliedDeps } from '../../../src/routing/on-record-applied.js';

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
