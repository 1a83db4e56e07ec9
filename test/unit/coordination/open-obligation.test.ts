import { describe, expect, it } from '@jest/globals';
import type { Bundle, Task } from 'fhir/r4.js';
import { openObligations } from '../../../src/coordination/coordination-deps.js';
import type { EscalationRequest } from '../../../src/coordination/escalate.js';
import { timelinessOf } from '../../../src/coordination/obligations.js';
import { hubTask } from '../../../src/fhir/hub-task.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const COORDINATOR = { reference: 'Practitioner/pat-coordinator' };

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

/**
 * A FHIR server that creates what a transaction gives it, except Tasks whose identifier it already
 * holds (a conditional create that matches answers 200 with the stored Task); the transactions,
 * due-time checks and escalations are counted.
 */
function world(stored: Task[] = []) {
  const transactions: Bundle[] = [];
  const checks: string[] = [];
  const escalations: EscalationRequest[] = [];
  const deps = {
    now: () => NOW,
    fhir: {
      transaction: async (bundle: Bundle, opts: { returnResources?: boolean }) => {
        transactions.push(bundle);
        expect(opts.returnResources).toBe(true);
        return {
          resourceType: 'Bundle',
          type: 'transaction-response',
          entry: (bundle.entry ?? []).map((e, i) => {
            const task = e.resource as Task;
            const match = stored.find((s) => s.identifier?.[0]?.value === task.identifier?.[0]?.value);
            return match
              ? { resource: match, response: { status: '200 OK' } }
              : { resource: { ...task, id: `t${i + 1}` }, response: { status: '201 Created' } };
          }),
        };
      },
    },
    scheduleObligationCheck: async (taskId: string) => void checks.push(taskId),
    enqueueEscalations: async (reqs: readonly EscalationRequest[]) => void escalations.push(...reqs),
  } as unknown as Parameters<typeof openObligations>[0];
  const care = { coordinatorOn: () => COORDINATOR };
  return { deps, care, transactions, checks, escalations };
}

describe('opening obligations', () => {
  it('writes all of a record’s obligations in one transaction of conditional creates', async () => {
    const { deps, transactions, checks } = world();
    await openObligations(deps, [
      { task: obligation('2026-12-07T09:00:00Z'), escalateAs: 'missed-documentation' },
      { task: obligation('2026-12-08T09:00:00Z'), escalateAs: 'missed-documentation' },
    ]);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.entry!.map((e) => e.request?.ifNoneExist)).toEqual([
      expect.stringMatching(/^identifier=.*o-2026-12-07/),
      expect.stringMatching(/^identifier=.*o-2026-12-08/),
    ]);
    expect(checks).toEqual(['t1', 't2']);
  });

  it('creates a Task already past its due time as overdue and escalates it at once, to the coordinator the rules read', async () => {
    const { deps, care, transactions, checks, escalations } = world();
    await openObligations(
      deps,
      [{ task: obligation('2026-12-06T09:00:00Z'), escalateAs: 'missed-documentation' }],
      care,
    );
    expect(timelinessOf(transactions[0]!.entry![0]!.resource as Task)).toBe('overdue');
    expect(checks).toEqual([]);
    expect(escalations).toEqual([
      expect.objectContaining({
        trigger: 'missed-documentation',
        patient: 'Patient/p1',
        focus: 'Task/t1',
        coordinator: COORDINATOR,
      }),
    ]);
  });

  it('leaves an obligation a repeat finds already open to its due-time check, which reads it', async () => {
    const held = { ...obligation('2026-12-06T09:00:00Z'), id: 'held' };
    const { deps, care, checks, escalations } = world([held]);
    await openObligations(
      deps,
      [{ task: obligation('2026-12-06T09:00:00Z'), escalateAs: 'missed-documentation' }],
      care,
    );
    expect(escalations).toEqual([]);
    expect(checks).toEqual(['held']);
  });

  it('creates a Task due later as it is, and writes nothing when there is nothing to open', async () => {
    const { deps, transactions } = world();
    await openObligations(deps, [{ task: obligation('2026-12-07T09:00:00Z'), escalateAs: 'x' }]);
    expect((transactions[0]!.entry![0]!.resource as Task).businessStatus).toBeUndefined();
    await openObligations(deps, []);
    expect(transactions).toHaveLength(1);
  });
});
