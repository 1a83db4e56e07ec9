import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';

/** When a partner's circuit opens and how long it stays open. */
export interface CircuitSettings {
  /** Failures within `windowMs` that open the circuit. @defaultValue 5 */
  readonly failureThreshold: number;
  /** @defaultValue 60000 */
  readonly windowMs: number;
  /** How long the circuit stays open before one probe delivery is let through. @defaultValue 30000 */
  readonly cooldownMs: number;
}

export const DEFAULT_CIRCUIT: CircuitSettings = { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000 };

/** Longest a circuit stays open between probes (the cooldown doubles after each failed probe). */
const MAX_COOLDOWN_MS = 15 * 60_000;

/** What a delivery may do now. */
export type CircuitDecision =
  { readonly allow: true; readonly probe: boolean } | { readonly allow: false; readonly retryAt: number };

/**
 * A per-partner circuit breaker shared by every hub process through Redis. Transient failures
 * are counted in a sliding window; past the threshold the circuit opens and deliveries are held
 * (re-scheduled, not failed, so they keep their attempts). After the cooldown one delivery is let
 * through as a probe: success closes the circuit and the held deliveries flow; failure reopens it
 * for twice as long.
 */
export class CircuitBreaker {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'circuits');
  }

  private keys(partnerId: string): { failures: string; openUntil: string; cooldown: string; probe: string } {
    const base = `${this.prefix}:circuit:${partnerId}`;
    return {
      failures: `${base}:failures`,
      openUntil: `${base}:open-until`,
      cooldown: `${base}:cooldown`,
      probe: `${base}:probe`,
    };
  }

  /** Whether a delivery to the partner may go now. */
  async check(partnerId: string, settings: CircuitSettings, now: number): Promise<CircuitDecision> {
    const k = this.keys(partnerId);
    const openUntil = Number(await this.redis.get(k.openUntil));
    if (!openUntil) {
      return { allow: true, probe: false };
    }
    if (now < openUntil) {
      return { allow: false, retryAt: openUntil };
    }
    // Half-open: exactly one delivery (across all processes) probes the partner.
    const gotProbe = await this.redis.set(k.probe, '1', 'PX', settings.cooldownMs, 'NX');
    return gotProbe === 'OK'
      ? { allow: true, probe: true }
      : { allow: false, retryAt: now + Math.min(1000, settings.cooldownMs) };
  }

  /** A delivery succeeded: the circuit closes and the failure count starts over. */
  async recordSuccess(partnerId: string): Promise<void> {
    const k = this.keys(partnerId);
    await this.redis.del(k.failures, k.openUntil, k.cooldown, k.probe);
  }

  /**
   * A delivery failed in a way that says the partner is unhealthy (not a permanent refusal).
   * @returns true when this failure opened (or re-opened) the circuit
   */
  async recordFailure(
    partnerId: string,
    settings: CircuitSettings,
    now: number,
    wasProbe: boolean,
  ): Promise<boolean> {
    const k = this.keys(partnerId);
    if (wasProbe) {
      const cooldown = Math.min(
        MAX_COOLDOWN_MS,
        Number((await this.redis.get(k.cooldown)) ?? settings.cooldownMs) * 2,
      );
      await this.redis
        .multi()
        .set(k.cooldown, cooldown)
        .set(k.openUntil, now + cooldown)
        .del(k.probe)
        .exec();
      return true;
    }
    const results = await this.redis
      .multi()
      .zadd(k.failures, now, `${now}-${Math.random()}`)
      .zremrangebyscore(k.failures, 0, now - settings.windowMs)
      .zcard(k.failures)
      .pexpire(k.failures, settings.windowMs)
      .exec();
    const count = Number(results?.[2]?.[1] ?? 0);
    if (count < settings.failureThreshold || (await this.redis.get(k.openUntil))) {
      return false;
    }
    await this.redis
      .multi()
      .set(k.cooldown, settings.cooldownMs)
      .set(k.openUntil, now + settings.cooldownMs)
      .exec();
    return true;
  }

  /** Whether the circuit is open now (for health pages). */
  async isOpen(partnerId: string, now: number): Promise<boolean> {
    return Number(await this.redis.get(this.keys(partnerId).openUntil)) > now;
  }
}
