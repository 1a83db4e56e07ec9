import { createHash, randomUUID } from 'node:crypto';
import { whileHolding } from '../queues/lease.js';
import type { RedisClient } from '../queues/connection.js';
import type { SubscriptionEvent, SubscriptionState } from './notification-bundle.js';
import type { HubSubscription } from './subscription-request.js';

/** Events kept per subscription for `$events` (the newest); a partner behind by more re-reads by search. */
const EVENTS_KEPT = 100_000;
/** How soon a hold whose holder died lapses (a live holder renews it). */
const HOLD_LEASE_MS = 15_000;
/** How long a focus is remembered against publishing it twice (a retried plan-change job). */
const FOCUS_MEMORY_SECONDS = 7 * 24 * 3600;

/**
 * Appends an event once per focus: the same plan version published twice (a retried job) keeps
 * its first number, so a subscriber never sees it twice under two numbers.
 */
const APPEND = `
local n = redis.call('GET', KEYS[1])
if n then return tonumber(n) end
n = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], n, 'EX', ARGV[3])
redis.call('ZADD', KEYS[3], n, n .. '|' .. ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -1 - tonumber(ARGV[4]))
return n`;

/** Moves the delivered mark forward only: a late, older send never moves it back. */
const MARK_SENT = `
local sent = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > sent then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/**
 * Subscriptions and their events in Redis, next to the queues: each subscription, its status,
 * its event counter (`eventsSinceSubscriptionStart`), its numbered event log (what `$events`
 * replays) and the number of the last event the subscriber took.
 */
export class SubscriptionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(id: string, part: string): string {
    return `${this.prefix}:subscription:${id}:${part}`;
  }

  private get index(): string {
    return `${this.prefix}:subscription:index`;
  }

  async create(sub: HubSubscription): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(sub.id, 'definition'), JSON.stringify(sub))
      .set(this.key(sub.id, 'status'), JSON.stringify({ status: 'requested' }))
      .sadd(this.index, sub.id)
      .exec();
  }

  async get(id: string): Promise<HubSubscription | undefined> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) {
      return undefined;
    }
    const text = await this.redis.get(this.key(id, 'definition'));
    return text ? (JSON.parse(text) as HubSubscription) : undefined;
  }

  async all(): Promise<HubSubscription[]> {
    const ids = await this.redis.smembers(this.index);
    const subs = await Promise.all(ids.map((id) => this.get(id)));
    return subs.filter((s): s is HubSubscription => s !== undefined);
  }

  async status(id: string): Promise<{ status: SubscriptionState; error?: string }> {
    const text = await this.redis.get(this.key(id, 'status'));
    return text ? (JSON.parse(text) as { status: SubscriptionState; error?: string }) : { status: 'off' };
  }

  async setStatus(id: string, status: SubscriptionState, error?: string): Promise<void> {
    await this.redis.set(this.key(id, 'status'), JSON.stringify({ status, ...(error ? { error } : {}) }));
  }

  async remove(id: string): Promise<boolean> {
    const parts = ['definition', 'status', 'counter', 'events', 'sent'].map((p) => this.key(id, p));
    const [[, removed] = []] =
      (await this.redis
        .multi()
        .srem(this.index, id)
        .del(...parts)
        .exec()) ?? [];
    return removed === 1;
  }

  /** Records an event (once per focus) and answers its number. */
  async append(id: string, focus: string, patient: string, at: Date): Promise<number> {
    const focusKey = this.key(id, `focus:${createHash('sha256').update(focus).digest('hex').slice(0, 32)}`);
    const n = await this.redis.eval(
      APPEND,
      3,
      focusKey,
      this.key(id, 'counter'),
      this.key(id, 'events'),
      focus,
      at.toISOString(),
      FOCUS_MEMORY_SECONDS,
      EVENTS_KEPT,
      patient,
    );
    return Number(n);
  }

  async eventsSinceStart(id: string): Promise<number> {
    return Number((await this.redis.get(this.key(id, 'counter'))) ?? 0);
  }

  /** Events numbered from `from` to `to` (inclusive), oldest first, at most `limit`. */
  async events(id: string, from: number, to: number, limit: number): Promise<SubscriptionEvent[]> {
    const members = await this.redis.zrangebyscore(this.key(id, 'events'), from, to, 'LIMIT', 0, limit);
    return members.map((m) => {
      const [number = '0', at = '', focus = '', patient = ''] = m.split('|');
      return { number: Number(number), at, focus, ...(patient ? { patient } : {}) };
    });
  }

  async lastSent(id: string): Promise<number> {
    return Number((await this.redis.get(this.key(id, 'sent'))) ?? 0);
  }

  async markSent(id: string, n: number): Promise<void> {
    await this.redis.eval(MARK_SENT, 1, this.key(id, 'sent'), String(n));
  }

  /**
   * Runs `fn` as the only holder of `name` (a subscription's sender, so its events go out in
   * order; the Task feed's scan); `busy` when another process holds it. A holder that dies frees
   * it within {@link HOLD_LEASE_MS}.
   */
  async whileHeld<T>(name: string, fn: () => Promise<T>): Promise<T | 'busy'> {
    return whileHolding(this.redis, this.key(name, 'lock'), randomUUID(), HOLD_LEASE_MS, fn);
  }
}
