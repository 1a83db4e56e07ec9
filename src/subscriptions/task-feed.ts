import type { Task } from 'fhir/r4.js';
import type { RedisClient } from '../queues/connection.js';
import { forgetCheckpoint, versionsSinceCheckpoint } from '../fhir/history-checkpoint.js';
import { participantOf } from '../security/care-team-access.js';
import { publishVersion, type PublishDeps } from './publish.js';
import { TOPIC_INFO } from './topics.js';

/**
 * How far before its checkpoint each scan looks again: longer than any transaction that writes a
 * Task takes to commit. A version seen again is skipped by its mark (or numbered once anyway).
 */
export const TASK_FEED_OVERLAP_MS = 30_000;
/** How often the feed scans (a maintenance task), while any subscription follows a Task topic. */
export const TASK_FEED_INTERVAL_MS = 2_000;
/** A subscription created this long after a version was written does not get it. */
const CLOCK_ALLOWANCE_MS = 5_000;

export interface TaskFeedDeps extends PublishDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
}

/**
 * The Task topics' single door (README, "Subscriptions"): every Task version written on the FHIR
 * server since the last scan, whoever wrote it (a partner's record, a coordination rule, a
 * referral step, a partner on the server directly), oldest first, published to the subscriptions
 * of the Task topics; run every {@link TASK_FEED_INTERVAL_MS} by the maintenance queue. The
 * checkpoint moves only once every version was published, so a hub that stops mid-scan publishes
 * the rest at the next; without Task subscriptions it does not scan and forgets its checkpoint (a
 * new subscription starts from then).
 * @returns how many versions were published
 */
export async function publishTaskVersions(deps: TaskFeedDeps): Promise<number> {
  // One scan at a time: a slow scan's successor skips its turn rather than scanning beside it.
  const published = await deps.store.whileHeld('task-feed', () => scan(deps));
  return published === 'busy' ? 0 : published;
}

async function scan(deps: TaskFeedDeps): Promise<number> {
  const checkpoint = `${deps.prefix}:subscription:task-feed:checkpoint`;
  const subscriptions = await deps.store.all();
  if (!subscriptions.some((s) => TOPIC_INFO[s.topic]?.resourceType === 'Task')) {
    await forgetCheckpoint(deps.redis, checkpoint);
    return 0;
  }
  const { versions, commit } = await versionsSinceCheckpoint<Task>(
    deps.fhir,
    deps.redis,
    checkpoint,
    'Task',
    TASK_FEED_OVERLAP_MS,
    // A subscription made just before the feed's first look gets what was written meanwhile
    // (publishVersion keeps each version to the subscriptions older than it).
    { beforeFirstLook: true },
  );
  let published = 0;
  for (const task of versions) {
    const version = task.meta?.versionId;
    const patient = participantOf(task);
    const seen = `${deps.prefix}:subscription:task-feed:seen:${task.id}:${version}`;
    if (!task.id || !version || !patient || (await deps.redis.exists(seen))) {
      continue;
    }
    const writtenAt = Date.parse(task.meta?.lastUpdated ?? '') || deps.now().getTime();
    await publishVersion(deps, task, version, patient, {
      createdBefore: new Date(writtenAt + CLOCK_ALLOWANCE_MS).toISOString(),
      subscriptions,
    });
    // Marked once published to all: a crash before this publishes it again, numbered as before.
    await deps.redis.set(seen, '1', 'PX', TASK_FEED_OVERLAP_MS * 4);
    published++;
  }
  await commit();
  return published;
}
