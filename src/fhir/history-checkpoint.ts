import type { Resource } from 'fhir/r4.js';
import type { Cluster, Redis } from 'ioredis';

/** What a history scan reads of the FHIR server (the gateway, in the hub). */
export interface HistorySource {
  /** Every version since `since`, oldest first, and the server's time of the search when it says. */
  historyAsOf<T extends Resource>(
    resourceType: T['resourceType'],
    since: string,
    maxPages?: number,
  ): Promise<{ versions: T[]; serverTime?: string }>;
  /** `meta.lastUpdated` of the newest version of any resource of the type, on the server's clock. */
  latestVersionTime(resourceType: string): Promise<string | undefined>;
}

export type Checkpoints = Pick<Redis | Cluster, 'get' | 'set'>;

const floorKey = (key: string): string => `${key}:floor`;

/** Forgets a checkpoint and its floor: the next scan is a first look again. */
export async function forgetCheckpoint(redis: Pick<Redis | Cluster, 'del'>, key: string): Promise<void> {
  await redis.del(key, floorKey(key));
}

/**
 * The versions of a resource type written since the checkpoint at `key` (less `overlapMs`, every
 * page), oldest first. A transaction is stamped when it starts and seen when it commits, so a
 * version can appear after a later-stamped one was already scanned: the overlap looks again, and
 * every caller must handle a version twice harmlessly. The first scan only sets the checkpoint,
 * from the server's own clock: history before the hub looked is not its to act on, and no later
 * scan returns a version stamped before it (the floor).
 */
export async function versionsSinceCheckpoint<T extends Resource>(
  fhir: HistorySource,
  redis: Checkpoints,
  key: string,
  resourceType: T['resourceType'],
  overlapMs: number,
  /** Whether a version stamped before the first look may be returned (its caller filters them). */
  { beforeFirstLook = false }: { readonly beforeFirstLook?: boolean } = {},
): Promise<{ versions: T[]; commit: () => Promise<void> }> {
  const checkpoint = await redis.get(key);
  if (!checkpoint) {
    // The first look is also the floor: the overlap of later scans never reaches behind it.
    const first = (await fhir.latestVersionTime(resourceType)) ?? new Date(0).toISOString();
    await redis.set(floorKey(key), first);
    await redis.set(key, first);
    return { versions: [], commit: async () => undefined };
  }
  const floor = beforeFirstLook ? 0 : Date.parse((await redis.get(floorKey(key))) ?? '') || 0;
  const since = new Date(Math.max(Date.parse(checkpoint) - overlapMs, floor)).toISOString();
  const scan = await fhir.historyAsOf<T>(resourceType, since, Number.POSITIVE_INFINITY);
  const versions = scan.versions.filter((v) => Date.parse(v.meta?.lastUpdated ?? '') > floor);
  // On to the server's time of the search when it gives one, not only to the newest version: a
  // quiet server's last burst is then not read again by every scan.
  const latest = [versions.at(-1)?.meta?.lastUpdated, scan.serverTime]
    .filter((t): t is string => t !== undefined)
    .sort((a, b) => Date.parse(a) - Date.parse(b))
    .at(-1);
  return {
    versions,
    // Moved on only once every version was handled, and never back.
    commit: async () => {
      if (latest && Date.parse(latest) > Date.parse(checkpoint)) {
        await redis.set(key, latest);
      }
    },
  };
}
