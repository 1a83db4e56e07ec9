import type { CarePlan, CareTeam, Communication, Identifier, Provenance } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';

/** What a delivery of one plan version carries, as the plan-change job captured it. */
export interface CapturedVersion {
  /** The version as the FHIR server stored it. */
  readonly plan: CarePlan;
  /** The plan-change notice, as written beside the deliveries (its id is derived, so known before). */
  readonly notice: Communication;
  /** The participant's identifiers when the version was captured. */
  readonly identifiers: readonly Identifier[];
}

/**
 * What the hub's own write knows of a plan version it made, kept for the version's capture so the
 * capture reads nothing from the FHIR server (README, "The plan-change job").
 */
export interface WrittenVersion {
  /** The version as the FHIR server stored it: the write's transaction answered with it. */
  readonly plan: CarePlan;
  /** The participant's identifiers as the write left them. */
  readonly identifiers: readonly Identifier[];
  /** The participant's shared CareTeam as the write left it (null: none). */
  readonly careTeam: CareTeam | null;
  /** The write's Provenance: who made the change, and why. */
  readonly source: Provenance;
}

/**
 * How long a captured version is kept: long enough for its deliveries to a healthy network and for
 * the diff of the plan's next version during a burst of edits. A miss costs only the reads it
 * saved, so the bound is on Redis memory (docs/scaling.md), not on correctness.
 */
export const PLAN_CONTENT_TTL_SECONDS = 15 * 60;

/** How long a plan the hub is writing is known as such: longer than any one write takes. */
export const PLAN_WRITING_SECONDS = 60;

/**
 * The last captured versions of plans, in Redis so every hub process finds them: a delivery is
 * built from what the plan-change job already read (no FHIR read on the way out), and the next
 * version is diffed against this one without reading it back. A FHIR version never changes, so an
 * entry is never stale; an absent or unreadable one is read from the server instead.
 */
export class PlanContentCache {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly ttlSeconds = PLAN_CONTENT_TTL_SECONDS,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'plan-content');
  }

  private key(carePlanId: string, version: string): string {
    return `${this.prefix}:plan-content:${carePlanId}:${version}`;
  }

  async put(carePlanId: string, version: string, content: CapturedVersion): Promise<void> {
    await this.redis.set(this.key(carePlanId, version), JSON.stringify(content), 'EX', this.ttlSeconds);
  }

  async get(carePlanId: string, version: string): Promise<CapturedVersion | undefined> {
    return this.parsed<CapturedVersion>(this.key(carePlanId, version));
  }

  /** Keeps what the hub's write knows of a version until the version is captured. */
  async putWritten(carePlanId: string, version: string, written: WrittenVersion): Promise<void> {
    await this.redis.set(
      this.writtenKey(carePlanId, version),
      JSON.stringify(written),
      'EX',
      this.ttlSeconds,
    );
  }

  async written(carePlanId: string, version: string): Promise<WrittenVersion | undefined> {
    return this.parsed<WrittenVersion>(this.writtenKey(carePlanId, version));
  }

  /** Whether the hub's write of a version kept it ({@link putWritten}), without reading it. */
  async hasWritten(carePlanId: string, version: string): Promise<boolean> {
    return (await this.redis.exists(this.writtenKey(carePlanId, version))) > 0;
  }

  /**
   * Notes that the hub is about to write a CarePlan holding `identifiers`, for
   * {@link PLAN_WRITING_SECONDS}: the FHIR server's notification of the version often comes
   * before the write's answer, and its job then waits for the write (README, "The plan-change job").
   */
  async markBeingWritten(identifiers: readonly Identifier[]): Promise<void> {
    const keys = this.writingKeys(identifiers);
    if (keys.length > 0) {
      await Promise.all(keys.map((key) => this.redis.set(key, '1', 'EX', PLAN_WRITING_SECONDS)));
    }
  }

  /** Whether the hub is writing a CarePlan holding any of `identifiers` ({@link markBeingWritten}). */
  async beingWritten(identifiers: readonly Identifier[]): Promise<boolean> {
    const keys = this.writingKeys(identifiers);
    return keys.length > 0 && (await this.redis.exists(...keys)) > 0;
  }

  private writingKeys(identifiers: readonly Identifier[]): string[] {
    // From a notification's body too: anything not an identifier is passed over.
    const listed: readonly (Identifier | null | undefined)[] = Array.isArray(identifiers) ? identifiers : [];
    return listed
      .filter((i): i is Identifier => typeof i?.system === 'string' && typeof i.value === 'string')
      .map(
        (i) =>
          `${this.prefix}:plan-writing:${createHash('sha256').update(`${i.system}|${i.value}`).digest('hex').slice(0, 32)}`,
      );
  }

  private writtenKey(carePlanId: string, version: string): string {
    return `${this.prefix}:plan-written:${carePlanId}:${version}`;
  }

  private async parsed<T>(key: string): Promise<T | undefined> {
    const json = await this.redis.get(key);
    if (!json) {
      return undefined;
    }
    try {
      return JSON.parse(json) as T;
    } catch {
      return undefined;
    }
  }
}
