/**
 * The engineers' alerts (README, "Alerts"): which conditions hold now, and a debounce so each is
 * raised once, only after holding for a while, and cleared when it stops holding. Pure: the
 * monitor (alert-monitor.ts) gathers the observations and acts on the decisions.
 */
import type { AlertSettings } from '../config/load-config.js';

export type { AlertSettings };

/** What the monitor saw of one queue. */
export interface QueueObservation {
  readonly queue: string;
  /** Waiting, prioritized and delayed (retrying) jobs. */
  readonly backlog: number;
  /** Age of the oldest job waiting to run. */
  readonly oldestWaitingMs?: number;
  /** Dead letters now, and at the start of the window (when known). */
  readonly failed: number;
  readonly failedAtWindowStart?: number;
}

export interface Observations {
  readonly queues: readonly QueueObservation[];
  /** Partners whose circuit is open. */
  readonly openCircuits: readonly string[];
  /** Records received in the window, per partner, and how many were rejected. */
  readonly received: ReadonlyArray<{
    readonly partnerId: string;
    readonly records: number;
    readonly rejected: number;
  }>;
}

/** A condition holding now: its key (one alert per key) and what to tell the engineers. */
export interface Condition {
  readonly key: string;
  readonly summary: string;
}

/** An alert's state: since when its condition holds, and when it was raised (once it was). */
export interface AlertState extends Condition {
  readonly since: string;
  readonly raisedAt?: string;
}

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

/** The conditions that hold in what the monitor saw. */
export function conditionsFrom(o: Observations, s: AlertSettings): Condition[] {
  const held: Condition[] = [];
  for (const q of o.queues) {
    if (q.backlog > s.queueDepth) {
      held.push({
        key: `queue-depth:${q.queue}`,
        summary: `${q.queue}: ${q.backlog} jobs waiting or retrying (over ${s.queueDepth})`,
      });
    }
    if (q.oldestWaitingMs !== undefined && q.oldestWaitingMs > s.queueAgeMs) {
      held.push({
        key: `queue-age:${q.queue}`,
        summary: `${q.queue}: the oldest waiting job has waited ${minutes(q.oldestWaitingMs)} (over ${minutes(s.queueAgeMs)})`,
      });
    }
    if (q.failedAtWindowStart !== undefined && q.failed > q.failedAtWindowStart) {
      held.push({
        key: `dead-letters:${q.queue}`,
        summary: `${q.queue}: ${q.failed - q.failedAtWindowStart} new dead letters in the last ${minutes(s.windowMs)} (${q.failed} in all)`,
      });
    }
  }
  for (const partnerId of o.openCircuits) {
    held.push({
      key: `circuit-open:${partnerId}`,
      summary: `${partnerId}: circuit open, deliveries and notifications held`,
    });
  }
  for (const r of o.received) {
    if (r.records >= s.rejectionMinRecords && r.rejected / r.records > s.rejectionRate) {
      held.push({
        key: `rejection-rate:${r.partnerId}`,
        summary: `${r.partnerId}: ${r.rejected} of ${r.records} records rejected in the last ${minutes(s.windowMs)}`,
      });
    }
  }
  return held;
}

export interface AlertDecisions {
  /** The states to keep: conditions still holding, raised or not yet. */
  readonly states: AlertState[];
  /** Alerts to raise now (their condition has held for `afterMs`). */
  readonly raised: AlertState[];
  /** Raised alerts whose condition no longer holds. */
  readonly cleared: AlertState[];
}

/**
 * The debounce: a condition is raised once it has held for `afterMs` (one raise however long it
 * holds), and cleared the first time it is not seen; one that stops holding before it was raised
 * is forgotten, so a flapping condition starts its wait again.
 */
export function nextAlertStates(
  previous: readonly AlertState[],
  holding: readonly Condition[],
  now: Date,
  afterMs: number,
): AlertDecisions {
  const before = new Map(previous.map((s) => [s.key, s]));
  const states: AlertState[] = [];
  const raised: AlertState[] = [];
  for (const c of holding) {
    const prior = before.get(c.key);
    const since = prior?.since ?? now.toISOString();
    if (prior?.raisedAt) {
      states.push({ ...c, since, raisedAt: prior.raisedAt });
    } else if (now.getTime() - Date.parse(since) >= afterMs) {
      const state = { ...c, since, raisedAt: now.toISOString() };
      states.push(state);
      raised.push(state);
    } else {
      states.push({ ...c, since });
    }
  }
  const still = new Set(holding.map((c) => c.key));
  const cleared = previous.filter((s) => s.raisedAt && !still.has(s.key));
  return { states, raised, cleared };
}
