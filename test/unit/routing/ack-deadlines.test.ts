import { describe, expect, it } from '@jest/globals';
import { DelayedError, type Job } from 'bullmq';
import type { Task } from 'fhir/r4.js';
import type { EscalationRequest } from '../../../src/coordination/escalate.js';
import {
  processAckDeadlineJob,
  sweepAckDeadlines,
  type AckDeadlineJobData,
} from '../../../src/routing/acknowledgments.queue.js';
import type { PartnerDeliveryStatus } from '../../../src/routing/delivery-status.js';
import type { RoutingDeps } from '../../../src/routing/routing-deps.js';

const BASE = 'https://carecoord.example.org';

function ackTask(due: string, status: Task['status'] = 'requested', id = 't1'): Task {
  return {
    resourceType: 'Task',
    id,
    identifier: [{ system: `${BASE}/sid/hub/ack-task`, value: 'partner-a.77.3' }],
    status,
    intent: 'order',
    for: { reference: 'Patient/9' },
    focus: { reference: 'CarePlan/77/_history/3' },
    owner: { reference: 'Organization/partner-a' },
    restriction: { period: { end: due } },
  };
}

/** The deadline worker's world: the Task on the server, the delivery status, the clock. */
function world(
  task: Task,
  state: PartnerDeliveryStatus['state'] = 'delivered',
  now = '2026-12-03T12:00:00Z',
) {
  const escalations: EscalationRequest[] = [];
  const scheduled: Array<[string, string]> = [];
  const deps = {
    fhir: {
      read: async () => task,
      search: async () => [task],
    },
    status: {
      list: async () => [{ partnerId: 'partner-a', state, at: {}, since: '' }],
    },
    now: () => new Date(now),
    enqueueEscalation: async (req: EscalationRequest) => void escalations.push(req),
    scheduleAckDeadline: async (taskId: string, dueAt: Date) =>
      void scheduled.push([taskId, dueAt.toISOString()]),
  } as unknown as RoutingDeps;
  const delayedTo: number[] = [];
  const job = {
    data: { taskId: task.id! },
    moveToDelayed: async (at: number) => void delayedTo.push(at),
  } as unknown as Job<AckDeadlineJobData>;
  return { deps, job, escalations, scheduled, delayedTo };
}

describe('the acknowledgment deadline worker', () => {
  it('escalates an acknowledgment still open at its due time, as of that due time', async () => {
    // The job runs late (a retry, a hub that was down): the miss happened at the due time.
    const w = world(ackTask('2026-12-03T10:00:00.000Z'));
    await expect(processAckDeadlineJob(w.deps)(w.job, 'token')).resolves.toEqual({ status: 'escalated' });
    expect(w.escalations).toHaveLength(1);
    expect(w.escalations[0]!.at.toISOString()).toBe('2026-12-03T10:00:00.000Z');
  });

  it('waits again when the due time moved later since the job was scheduled', async () => {
    const w = world(ackTask('2026-12-03T18:00:00.000Z'));
    await expect(processAckDeadlineJob(w.deps)(w.job, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(w.delayedTo).toEqual([Date.parse('2026-12-03T18:00:00.000Z')]);
    expect(w.escalations).toEqual([]);
  });

  it.each(['superseded', 'withheld', 'failed'] as const)(
    'does not escalate a version the partner never received (%s)',
    async (state) => {
      const w = world(ackTask('2026-12-03T10:00:00.000Z'), state);
      await expect(processAckDeadlineJob(w.deps)(w.job, 'token')).resolves.toEqual({
        status: 'not-delivered',
      });
      expect(w.escalations).toEqual([]);
    },
  );

  it('does nothing for an acknowledged Task', async () => {
    const w = world(ackTask('2026-12-03T10:00:00.000Z', 'completed'));
    await expect(processAckDeadlineJob(w.deps)(w.job, 'token')).resolves.toEqual({ status: 'acknowledged' });
    expect(w.escalations).toEqual([]);
  });
});

describe('the acknowledgment deadline sweep', () => {
  it('schedules the deadline of every open acknowledgment again (a lost delayed job is recreated)', async () => {
    const w = world(ackTask('2026-12-03T10:00:00.000Z'));
    expect(await sweepAckDeadlines(w.deps)).toBe(1);
    expect(w.scheduled).toEqual([['t1', '2026-12-03T10:00:00.000Z']]);
  });
});
