import type { Communication } from 'fhir/r4.js';
import type { RedisClient } from '../queues/connection.js';
import { randomUUID } from 'node:crypto';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { MessageLog } from '../ingest/message-log.js';
import type { Logger } from '../logging/logger.js';
import { whileHolding } from '../queues/lease.js';
import {
  conditionsFrom,
  nextAlertStates,
  type AlertDecisions,
  type AlertSettings,
  type AlertState,
  type QueueObservation,
} from './alert.rules.js';

/** A raised alert as the page lists it: raised, and cleared once it was. */
export interface AlertRecord {
  readonly key: string;
  readonly summary: string;
  readonly raisedAt: string;
  readonly clearedAt?: string;
}

export interface AlertMonitorDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly settings: AlertSettings;
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Each queue's backlog, oldest waiting job and dead letters. */
  readonly queues: () => Promise<Array<Omit<QueueObservation, 'failedAtWindowStart'>>>;
  /** Partners whose circuit is open now. */
  readonly openCircuits: () => Promise<string[]>;
  readonly messages: Pick<MessageLog, 'find'>;
}

/** Alerts listed on the page, newest first. */
const HISTORY_KEPT = 200;
/** Messages read at most for the rejection rates of one window. */
const MESSAGES_READ = 2000;

const key = (deps: Pick<AlertMonitorDeps, 'prefix'>, part: string): string => `${deps.prefix}:alerts:${part}`;

/**
 * One check of the alerts, run by the maintenance queue (once per deployment): observes the
 * queues, circuits and rejection rates, applies the debounce ({@link nextAlertStates}), keeps the
 * states and the list the operations page shows, and tells the engineers on duty of each alert
 * raised or cleared with a Communication (category `integration-alert`).
 */
export async function checkAlerts(deps: AlertMonitorDeps): Promise<AlertDecisions | 'busy'> {
  return whileHolding(deps.redis, key(deps, 'lock'), randomUUID(), 30_000, async () => {
    const now = deps.now();
    const [queues, openCircuits, received, previous] = await Promise.all([
      withFailedAtWindowStart(deps, await deps.queues(), now),
      deps.openCircuits(),
      receivedInWindow(deps, now),
      readJson<AlertState[]>(deps.redis, key(deps, 'states'), []),
    ]);
    const held = conditionsFrom({ queues, openCircuits, received }, deps.settings);
    const decisions = nextAlertStates(previous, held, now, deps.settings.afterMs);
    const multi = deps.redis.multi().set(key(deps, 'states'), JSON.stringify(decisions.states));
    for (const a of decisions.raised) {
      multi.lpush(key(deps, 'history'), JSON.stringify(record(a)));
    }
    for (const a of decisions.cleared) {
      multi.lpush(key(deps, 'history'), JSON.stringify(record(a, now)));
    }
    await multi.ltrim(key(deps, 'history'), 0, HISTORY_KEPT - 1).exec();
    for (const a of decisions.raised) {
      await tell(deps, a);
    }
    for (const a of decisions.cleared) {
      await tell(deps, a, now);
    }
    return decisions;
  });
}

/** Raised alerts not yet cleared, and the recent history (each raise and each clearing). */
export async function listAlerts(
  redis: RedisClient,
  prefix: string,
): Promise<{ active: AlertRecord[]; history: AlertRecord[] }> {
  const states = await readJson<AlertState[]>(redis, key({ prefix }, 'states'), []);
  const history = (await redis.lrange(key({ prefix }, 'history'), 0, HISTORY_KEPT - 1)).map(
    (text) => JSON.parse(text) as AlertRecord,
  );
  return { active: states.filter((s) => s.raisedAt).map((s) => record(s)), history };
}

function record(a: AlertState, clearedAt?: Date): AlertRecord {
  return {
    key: a.key,
    summary: a.summary,
    raisedAt: a.raisedAt!,
    ...(clearedAt ? { clearedAt: clearedAt.toISOString() } : {}),
  };
}

/** The Communication of an alert: in progress while raised, completed once cleared. */
async function tell(deps: AlertMonitorDeps, a: AlertState, clearedAt?: Date): Promise<void> {
  const identifier = hubIdentifier(
    deps.identifierBase,
    'engineer-alert',
    `${a.key}.${Date.parse(a.raisedAt!)}`,
  );
  const notice: Communication = {
    resourceType: 'Communication',
    identifier: [identifier],
    status: clearedAt ? 'completed' : 'in-progress',
    priority: 'urgent',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'integration-alert' }] }],
    sent: a.raisedAt!,
    recipient: [{ display: 'Integration engineers on duty' }],
    payload: [{ contentString: a.summary }],
    ...(clearedAt
      ? { note: [{ time: clearedAt.toISOString(), text: 'Cleared: the condition no longer holds.' }] }
      : {}),
  };
  // The page has the alert already; a FHIR server that is away costs the notice, never the check.
  await deps.fhir.upsertByIdentifier(notice, identifier).catch((err: unknown) => {
    deps.logger.warn({ alert: a.key, error: (err as Error).message }, 'alert notice not written');
  });
}

/**
 * Each queue with its dead letters at the start of the window, from samples the checks keep (one
 * per check, for the length of the window): a queue is known from its first sample on.
 */
async function withFailedAtWindowStart(
  deps: AlertMonitorDeps,
  queues: ReadonlyArray<Omit<QueueObservation, 'failedAtWindowStart'>>,
  now: Date,
): Promise<QueueObservation[]> {
  type Sample = { at: number; failed: Record<string, number> };
  const samples = await readJson<Sample[]>(deps.redis, key(deps, 'failed-samples'), []);
  const windowStart = now.getTime() - deps.settings.windowMs;
  const kept = samples.filter((s) => s.at >= windowStart);
  const oldest = kept[0] ?? samples.at(-1);
  kept.push({ at: now.getTime(), failed: Object.fromEntries(queues.map((q) => [q.queue, q.failed])) });
  await deps.redis.set(key(deps, 'failed-samples'), JSON.stringify(kept));
  return queues.map((q) => {
    const before = oldest?.failed[q.queue];
    return before === undefined ? q : { ...q, failedAtWindowStart: before };
  });
}

/** Records received and rejected per partner in the window, from the message log. */
async function receivedInWindow(
  deps: AlertMonitorDeps,
  now: Date,
): Promise<Array<{ partnerId: string; records: number; rejected: number }>> {
  const by = new Map<string, { records: number; rejected: number }>();
  let before: string | undefined;
  for (let read = 0; read < MESSAGES_READ;) {
    const page = await deps.messages.find({
      from: now.getTime() - deps.settings.windowMs,
      limit: 500,
      ...(before ? { before } : {}),
    });
    for (const m of page.items) {
      const seen = by.get(m.partnerId) ?? { records: 0, rejected: 0 };
      const records = m.counts.accepted + m.counts.rejected;
      by.set(m.partnerId, { records: seen.records + records, rejected: seen.rejected + m.counts.rejected });
    }
    read += page.items.length;
    if (!page.next) {
      break;
    }
    before = page.next;
  }
  return [...by].map(([partnerId, n]) => ({ partnerId, ...n }));
}

async function readJson<T>(redis: RedisClient, k: string, fallback: T): Promise<T> {
  const text = await redis.get(k);
  return text ? (JSON.parse(text) as T) : fallback;
}
