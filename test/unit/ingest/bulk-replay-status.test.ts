import type { BulkReplayQueue } from '../../../src/ingest/bulk-replay.queue.js';
import { bulkReplayStatus } from '../../../src/ingest/bulk-replay.queue.js';

/**
 * A bulk replay that finishes between the status's reads must not be reported completed
 * without its counts (CI saw `{ state: 'completed' }` with no result once).
 */
describe('bulkReplayStatus', () => {
  it('never reports a completed replay without its result, even when it completes between reads', async () => {
    let finished = false;
    const snapshot = () =>
      finished
        ? { returnvalue: { replayed: 1, accepted: 1 }, failedReason: undefined }
        : { returnvalue: null, failedReason: undefined };
    const queue = {
      // Each read sees the job as it is then; the replay completes right after the first read.
      getJob: async () => {
        const job = { ...snapshot(), getState: async () => (finished ? 'completed' : 'active') };
        finished = true;
        return job;
      },
      getJobState: async () => {
        const state = finished ? 'completed' : 'active';
        finished = true;
        return state;
      },
    } as unknown as BulkReplayQueue;
    const status = await bulkReplayStatus(queue, 'bulk-replay.1');
    expect(status?.state === 'completed' ? status.result : { replayed: 1, accepted: 1 }).toEqual({
      replayed: 1,
      accepted: 1,
    });
  });

  it('answers undefined for an id that is not a bulk replay', async () => {
    const queue = {
      getJob: async () => undefined,
      getJobState: async () => 'unknown',
    } as unknown as BulkReplayQueue;
    expect(await bulkReplayStatus(queue, 'other.1')).toBeUndefined();
    expect(await bulkReplayStatus(queue, 'bulk-replay.2')).toBeUndefined();
  });
});
