import type { RedisClient } from '../queues/connection.js';
import { InvalidInputError } from '../errors/hub-error.js';

/** Index entries read at a time while paging. */
const SCAN_CHUNK = 200;

/** A page of a list, newest first, and the cursor of the next page (none after the last). */
export interface TimePage<T> {
  readonly items: T[];
  readonly next?: string;
}

export interface PageRequest {
  readonly limit: number;
  /** The cursor of a previous page (`<ms>~<id>`). */
  readonly before?: string;
  /** Only entries at or after this time (ms). */
  readonly from?: number;
  /** Only entries before this time (ms). */
  readonly to?: number;
}

/**
 * A page of a Redis sorted set of ids scored by time (the rejected records, the message log),
 * newest first, each id loaded by `load` and kept when `keep` says so. Pages follow by (time, id),
 * so an entry added meanwhile never shifts another into the next page twice.
 */
export async function pageByTime<T>(
  redis: RedisClient,
  index: string,
  request: PageRequest,
  load: (ids: readonly string[]) => Promise<ReadonlyArray<T | undefined>>,
  keep: (item: T) => boolean = () => true,
): Promise<TimePage<T>> {
  let cursor = request.before !== undefined ? readCursor(request.before) : undefined;
  const floor = request.from ?? '-inf';
  // Entries at the cursor's time already read: ties of one millisecond are read past by count.
  let ties = 0;
  const items: T[] = [];
  for (;;) {
    const top = cursor ? cursor.at : request.to !== undefined ? `(${request.to}` : '+inf';
    const flat = await redis.zrevrangebyscore(index, top, floor, 'WITHSCORES', 'LIMIT', ties, SCAN_CHUNK);
    const chunk = pairs(flat);
    if (chunk.length === 0) {
      return { items };
    }
    const entries = chunk.filter(
      ([id, at]) => !cursor || at < cursor.at || (at === cursor.at && id < cursor.id),
    );
    const docs = entries.length > 0 ? await load(entries.map(([id]) => id)) : [];
    for (const [i, [id, at]] of entries.entries()) {
      const item = docs[i];
      if (item !== undefined && keep(item)) {
        items.push(item);
        if (items.length === request.limit) {
          return { items, next: `${at}~${id}` };
        }
      }
    }
    const [lastId, lastAt] = chunk.at(-1)!;
    ties = (cursor && lastAt === cursor.at ? ties : 0) + chunk.filter(([, at]) => at === lastAt).length;
    cursor = { at: lastAt, id: lastId };
  }
}

/** `[id, score, id, score, ...]` as pairs. */
function pairs(flat: readonly string[]): Array<[id: string, at: number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push([flat[i]!, Number(flat[i + 1])]);
  }
  return out;
}

function readCursor(text: string): { at: number; id: string } {
  const [, at, id] = /^(\d{1,16})~([A-Za-z0-9._:-]{1,200})$/.exec(text) ?? [];
  if (!at || !id) {
    throw new InvalidInputError('before must be the cursor of a previous page (its Link: rel="next")');
  }
  return { at: Number(at), id };
}
