import { describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import { openObligation } from '../../../src/coordination/coordination-deps.js';
import { timelinessOf } from '../../../src/coordination/obligations.js';
import { hubTask } from '../../../src/fhir/hub-task.js';

const NOW = new Date('2026-12-06T12:00:00Z');

function obligation(due: string): Task {
  return hubTask({
    identifier: { system: 'https://carecoord.example.org/sid/hub/obligation', value: `o-${due}` },
    code: 'documentation-24h',
    description: 'Record the contact',
    focus: 'Communication/c1',
    for: 'Patient/p1',
    owner: { reference: 'Organization/sunrise-hcbs' },
    start: '2026-12-05T09:00:00Z',
    due,
  });
}

/** The FHIR server creates what it is given; the due-time checks are counted. */
function world() {
  const created: Task[] = [];
  const checks: string[] = [];
  const deps = {
    now: () => NOW,
    fhir: {
      createIfNoneExist: async (task: Task) => {
        created.push(task);
        return { resource: { ...task, id: `t${created.length}` }, created: true };
      },
    },
    scheduleObligationCheck: async (taskId: string) => {
      checks.push(taskId);
    },
  } as unknown as Parameters<typeof openObligation>[0];
  return { deps, created, checks };
}

describe('opening an obligation', () => {
  it('creates a Task already past its due time as overdue, and still schedules its check', async () => {
    const { deps, created, checks } = world();
    await openObligation(deps, obligation('2026-12-06T09:00:00Z'), 'missed-documentation');
    expect(timelinessOf(created[0]!)).toBe('overdue');
    expect(checks).toEqual(['t1']);
  });

  it('creates a Task due later as it is', async () => {
    const { deps, created } = world();
    await openObligation(deps, obligation('2026-12-07T09:00:00Z'), 'missed-documentation');
    expect(created[0]!.businessStatus).toBeUndefined();
  });
});
