import { describe, expect, it } from '@jest/globals';
import type { Queue, Worker } from 'bullmq';
import { closeQueues, type HubQueues } from '../../../src/startup/queues.js';

/** A queue or worker that only records what was asked of it; `close` settles as told. */
function part(name: string, close: () => Promise<void>, log: string[]) {
  return {
    name,
    close: async () => {
      log.push(`close ${name}`);
      await close();
      log.push(`closed ${name}`);
    },
    disconnect: async () => void log.push(`disconnect ${name}`),
  };
}

function hubQueues(log: string[]): HubQueues {
  const queue = (name: string) => part(name, () => Promise.resolve(), log) as unknown as Queue;
  return {
    ingest: queue('ingest'),
    batches: queue('ingest-batches'),
    planChanges: queue('plan-changes'),
    planRecords: queue('plan-records'),
    deliveries: new Map(),
    acknowledgments: queue('acknowledgments'),
    escalations: queue('escalations'),
    coordination: queue('coordination'),
    subscriptions: queue('subscription-notifications'),
    maintenance: queue('maintenance'),
    bulkReplays: queue('bulk-replays'),
    disclosures: queue('disclosures'),
  } as unknown as HubQueues;
}

describe('closing the queues', () => {
  it('drops the connections of a worker whose close never finishes, and closes the rest', async () => {
    // BullMQ's close can wait for ever for a connection's end after a cluster master restart.
    const log: string[] = [];
    const stuck = part('ingest', () => new Promise<void>(() => undefined), log) as unknown as Worker;
    const fine = part('plan-changes', () => Promise.resolve(), log) as unknown as Worker;
    await closeQueues([stuck, fine], hubQueues(log), { graceMs: 50 });
    expect(log).toContain('disconnect ingest');
    expect(log).not.toContain('disconnect plan-changes');
    expect(log).toContain('closed plan-changes');
    // The queues are closed after the workers, the stuck one included.
    expect(log.indexOf('close bulk-replays')).toBeGreaterThan(log.indexOf('disconnect ingest'));
  });
});
