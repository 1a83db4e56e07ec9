import { randomUUID } from 'node:crypto';
import type { CareTeam, Flag, Patient, Resource, Task } from 'fhir/r4.js';
import type { Redis } from 'ioredis';
import { forgetCheckpoint, versionsSinceCheckpoint, type HistorySource } from '../fhir/history-checkpoint.js';
import { whileHolding } from '../queues/lease.js';
import type { RosterEntry } from './roster.rules.js';
import {
  rankParticipants,
  readParticipants,
  type RosterDeps,
  type RosterFilter,
  type StoredParticipant,
} from './roster-service.js';

/**
 * The huddle roster kept between reads (README, "The huddle roster"): one Redis hash of what the
 * roster needs of each participant on it, brought up to date from the FHIR server's history of
 * the four types that change it, whoever wrote them. A read first catches up (a few history
 * searches, and a read of the participants they name), so it sees every write made before it;
 * the ranking is worked out at the read, because today's coordinator and a flag's age change
 * with the clock, not the data. A full rebuild runs when nothing is kept and once an hour, which
 * also mends what history cannot say (a deleted resource).
 */
export interface RosterIndexDeps extends RosterDeps {
  readonly fhir: RosterDeps['fhir'] & HistorySource;
  readonly redis: Redis;
  readonly prefix: string;
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
/** How long a read waits for another replica's catch-up before ranking what is kept. */
const WAIT_MS = 5_000;

export class RosterIndex {
  private catchingUp: Promise<void> | undefined;

  constructor(private readonly deps: RosterIndexDeps) {}

  /** Today's roster, from what is kept, after catching up with every write made before the call. */
  async entries(filter: RosterFilter = {}): Promise<RosterEntry[]> {
    await this.catchUp();
    const kept = await this.deps.redis.hvals(this.key('participants'));
    return rankParticipants(
      this.deps,
      kept.map((json) => JSON.parse(json) as StoredParticipant),
      filter,
    );
  }

  /**
   * Brings what is kept up to date. Calls in one process share one catch-up, and replicas take
   * turns (a lease), so two never write one participant from reads made in a different order.
   */
  catchUp(): Promise<void> {
    this.catchingUp ??= this.whenFree(() => this.update()).finally(() => {
      this.catchingUp = undefined;
    });
    return this.catchingUp;
  }

  /** Reads everything again and replaces what is kept (hourly, and when nothing is kept yet). */
  rebuild(): Promise<void> {
    return this.whenFree(() => this.replaceAll());
  }

  private async whenFree(work: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    const token = randomUUID();
    while ((await whileHolding(this.deps.redis, this.key('lease'), token, LEASE_MS, work)) === 'busy') {
      if (Date.now() > deadline) {
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
        return { commit: scan.commit, patients: scan.versions.map(about) };
      }),
    );
    const changed = [
      ...new Set(scans.flatMap((s) => s.patients).filter((p): p is string => !!p?.startsWith('Patient/'))),
    ];
    if (changed.length > 0) {
      const now = await readParticipants(this.deps, changed);
      const on = new Set(now.map((p) => p.patient));
      const tx = this.deps.redis.multi();
      for (const p of now) {
        tx.hset(this.key('participants'), p.patient, JSON.stringify(p));
      }
      const off = changed.filter((p) => !on.has(p));
      if (off.length > 0) {
        tx.hdel(this.key('participants'), ...off);
      }
      await tx.exec();
    }
    for (const scan of scans) {
      await scan.commit();
    }
  }

  private async replaceAll(): Promise<void> {
    // Checkpoints first: what is written during the full read is read again by the next catch-up.
    for (const [type] of WATCHED) {
      await forgetCheckpoint(this.deps.redis, this.key(`checkpoint:${type}`));
      await versionsSinceCheckpoint(this.deps.fhir, this.deps.redis, this.key(`checkpoint:${type}`), type, 0);
    }
    const everyone = await readParticipants(this.deps);
    const building = this.key(`building:${randomUUID()}`);
    const tx = this.deps.redis.multi();
    for (let i = 0; i < everyone.length; i += 500) {
      tx.hset(
        building,
        Object.fromEntries(everyone.slice(i, i + 500).map((p) => [p.patient, JSON.stringify(p)])),
      );
    }
    tx.expire(building, 600);
    await tx.exec();
    const swap = this.deps.redis.multi();
    swap.del(this.key('participants'));
    if (everyone.length > 0) {
      swap.rename(building, this.key('participants'));
    }
    swap.set(this.key('built'), new Date().toISOString());
    await swap.exec();
  }

  private key(part: string): string {
    return `${this.deps.prefix}:roster:${part}`;
  }
}
