import { randomUUID } from 'node:crypto';
import type { CareTeam, Flag, Patient, Resource, Task } from 'fhir/r4.js';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import { forgetCheckpoint, versionsSinceCheckpoint } from '../fhir/history-checkpoint.js';
import type { Logger } from '../logging/logger.js';
import { whileHolding } from '../queues/lease.js';
import { localDate } from './business-calendar.js';
import { rankingHoldsUntil, type RosterEntry } from './roster.rules.js';
import {
  rankParticipants,
  readParticipants,
  type RosterDeps,
  type RosterFilter,
  type StoredParticipant,
} from './roster-service.js';

/**
 * The huddle roster kept between reads (README, "Coordination rules", rule 5): one Redis hash of
 * what the roster needs of each participant on it, brought up to date from the FHIR server's
 * history of the four types that change it, whoever wrote them. A read first catches up (a few history
 * searches, and a read of the participants they name), so it sees every write made before it;
 * the ranking is worked out at the read, because today's coordinator and a flag's age change
 * with the clock, not the data. A full rebuild runs when nothing is kept and once an hour, which
 * also mends what history cannot say (a deleted resource).
 */
export interface RosterIndexDeps extends RosterDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Pick<Logger, 'warn'>;
}

function versionOf(v: Resource): { key: string; at: number } {
  return {
    key: `${v.resourceType}/${v.id}/${v.meta?.versionId}`,
    at: Date.parse(v.meta?.lastUpdated ?? '') || 0,
  };
}

/** The types whose changes move someone on the roster, and who each version is about. */
const WATCHED: ReadonlyArray<readonly [Resource['resourceType'], (r: Resource) => string | undefined]> = [
  ['Task', (r) => (r as Task).for?.reference],
  ['Flag', (r) => (r as Flag).subject.reference],
  ['CareTeam', (r) => (r as CareTeam).subject?.reference],
  ['Patient', (r) => `Patient/${(r as Patient).id}`],
];

/**
 * How far before its checkpoint each catch-up looks again: a transaction is stamped when it starts
 * and seen in history when it commits; the hub's own transactions take well under this. Shorter
 * than the plan catch-up's, because every roster read pays for it.
 */
const OVERLAP_MS = 5_000;
/** The lease is renewed while held; a holder that died frees it within this. */
const LEASE_MS = 15_000;
/**
 * How long a read waits for a catch-up under way elsewhere (a burst of thousands of changed
 * participants takes seconds) before ranking what is kept, which the hub then logs as stale.
 */
const WAIT_MS = 30_000;
/** Rankings kept at once (by day, agency and flag; a whole one is megabytes); more start afresh. */
const MAX_RANKINGS = 16;

export class RosterIndex {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** What is kept, as last read and parsed here, and the revision it was read at. */
  private parsed:
    { readonly revision: string; readonly participants: readonly StoredParticipant[] } | undefined;
  /** Rankings of what is kept (`parsed`), by day and filter, each with when it stops holding. */
  private rankings:
    | {
        readonly of: readonly StoredParticipant[];
        readonly byKey: Map<string, { entries: readonly RosterEntry[]; holdsUntil: number }>;
      }
    | undefined;

  private readonly prefix: string;

  constructor(private readonly deps: RosterIndexDeps) {
    this.prefix = storeKeyPrefix(deps.redis, deps.prefix, 'roster');
  }

  /**
   * Today's roster, from what is kept, after catching up with every write made before the call.
   * A ranking is reused while what is kept, the day and the filter are the same and the clock has
   * not passed a due time or a flag's window (rankingHoldsUntil): at 10,000 participants ranking
   * is most of a read's work.
   */
  async entries(filter: RosterFilter = {}): Promise<readonly RosterEntry[]> {
    await this.catchUp();
    const participants = await this.kept();
    const now = this.deps.now();
    if (this.rankings?.of !== participants || this.rankings.byKey.size >= MAX_RANKINGS) {
      this.rankings = { of: participants, byKey: new Map() };
    }
    const key = JSON.stringify([
      localDate(this.deps.config.calendars.timeZone, now),
      filter.agency ?? null,
      filter.flag ?? null,
    ]);
    const kept = this.rankings.byKey.get(key);
    if (kept && now.getTime() <= kept.holdsUntil) {
      return kept.entries;
    }
    const entries = rankParticipants({ ...this.deps, now: () => now }, participants, filter);
    const holdsUntil = rankingHoldsUntil(this.deps.config.roster, participants, now);
    this.rankings.byKey.set(key, { entries, holdsUntil });
    return entries;
  }

  /**
   * What is kept, read and parsed again only when a catch-up or rebuild (of any replica) changed
   * it since: each marks its change with a new revision. At 10,000 participants the read and parse
   * are megabytes, where the revision is one GET.
   */
  private async kept(): Promise<readonly StoredParticipant[]> {
    const revision = (await this.deps.redis.get(this.key('revision'))) ?? '';
    if (revision !== '' && this.parsed?.revision === revision) {
      return this.parsed.participants;
    }
    // The revision and the hash read together, so a change between them cannot be kept under
    // the older revision.
    const [[failed, at], [failedToo, all]] = (await this.deps.redis
      .multi()
      .get(this.key('revision'))
      .hvals(this.key('participants'))
      .exec()) as [[Error | null, string | null], [Error | null, string[]]];
    const error = failed ?? failedToo;
    if (error) {
      throw error;
    }
    const participants = all.map((json) => JSON.parse(json) as StoredParticipant);
    this.parsed = { revision: at ?? '', participants };
    return participants;
  }

  /**
   * Brings what is kept up to date. Replicas take turns (a lease), so two never write one
   * participant from reads made in a different order. A call while a catch-up runs in this process
   * waits for the next one, which sees what was written before the call; calls meanwhile share it.
   */
  catchUp(): Promise<void> {
    if (!this.running) {
      this.running = this.whenFree(() => this.update()).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.catchUp();
      });
    return this.next;
  }

  /** Reads everything again and replaces what is kept (hourly, and when nothing is kept yet). */
  rebuild(): Promise<void> {
    return this.whenFree(() => this.replaceAll());
  }

  /**
   * The periodic work: a catch-up, or the hourly rebuild, only once a read has built the roster,
   * so a deployment (or a test hub) whose roster nobody opens never reads the whole server for it.
   */
  async maintain(work: 'catch-up' | 'rebuild'): Promise<void> {
    if (await this.deps.redis.exists(this.key('built'))) {
      await (work === 'catch-up' ? this.catchUp() : this.rebuild());
    }
  }

  private async whenFree(work: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    const token = randomUUID();
    while ((await whileHolding(this.deps.redis, this.key('lease'), token, LEASE_MS, work)) === 'busy') {
      if (Date.now() > deadline) {
        this.deps.logger?.warn(
          { waitedMs: WAIT_MS },
          'roster: another catch-up is still running; answering from what is kept',
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async update(): Promise<void> {
    if (!(await this.deps.redis.exists(this.key('built')))) {
      return this.replaceAll();
    }
    const scans = await Promise.all(
      WATCHED.map(async ([type, about]) => {
        const scan = await versionsSinceCheckpoint(
          this.deps.fhir,
          this.deps.redis,
          this.key(`checkpoint:${type}`),
          type,
          OVERLAP_MS,
          { beforeFirstLook: true },
        );
        return {
          commit: scan.commit,
          versions: scan.versions.map((v) => ({ ...versionOf(v), patient: about(v) })),
        };
      }),
    );
    const versions = scans.flatMap((s) => s.versions);
    // Each catch-up looks again at the overlap: versions handled before are not read again.
    const handled =
      versions.length > 0
        ? await this.deps.redis.zmscore(this.key('handled'), ...versions.map((v) => v.key))
        : [];
    const fresh = versions.filter((_, i) => handled[i] === null);
    const changed = [
      ...new Set(fresh.flatMap((v) => (v.patient?.startsWith('Patient/') ? [v.patient] : []))),
    ];
    const tx = this.deps.redis.multi();
    if (changed.length > 0) {
      const now = await readParticipants(this.deps, changed);
      const on = new Set(now.map((p) => p.patient));
      for (const p of now) {
        tx.hset(this.key('participants'), p.patient, JSON.stringify(p));
      }
      const off = changed.filter((p) => !on.has(p));
      if (off.length > 0) {
        tx.hdel(this.key('participants'), ...off);
      }
      tx.set(this.key('revision'), randomUUID());
    }
    for (const v of fresh) {
      tx.zadd(this.key('handled'), v.at, v.key);
    }
    // Kept while a later catch-up can still see them: the overlap, and a minute for clock skew.
    tx.zremrangebyscore(this.key('handled'), '-inf', Date.now() - OVERLAP_MS - 60_000);
    await tx.exec();
    for (const scan of scans) {
      await scan.commit();
    }
  }

  private async replaceAll(): Promise<void> {
    // Checkpoints first (a first look, on the server's clock): what is written during the full
    // read is read again by the next catch-up.
    for (const [type] of WATCHED) {
      await forgetCheckpoint(this.deps.redis, this.key(`checkpoint:${type}`));
      await versionsSinceCheckpoint(this.deps.fhir, this.deps.redis, this.key(`checkpoint:${type}`), type, 0);
    }
    await this.deps.redis.del(this.key('handled'));
    const everyone = await readParticipants(this.deps);
    const building = this.key(`building:${randomUUID()}`);
    const fill = this.deps.redis.multi();
    for (let i = 0; i < everyone.length; i += 500) {
      fill.hset(
        building,
        Object.fromEntries(everyone.slice(i, i + 500).map((p) => [p.patient, JSON.stringify(p)])),
      );
    }
    fill.expire(building, 600);
    await fill.exec();
    const swap = this.deps.redis.multi();
    swap.del(this.key('participants'));
    if (everyone.length > 0) {
      swap.rename(building, this.key('participants'));
    }
    swap.set(this.key('built'), new Date().toISOString());
    swap.set(this.key('revision'), randomUUID());
    await swap.exec();
  }

  private key(part: string): string {
    return `${this.prefix}:roster:${part}`;
  }
}
