import express, { Router, type Request } from 'express';
import type { bulkReplayStatus, BulkReplayRequest } from '../../ingest/bulk-replay.queue.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';
import { refuseFields } from '../validate-body.js';
import type { LoggedMessage, MessageLog, MessageQuery, SavedSearches } from '../../ingest/message-log.js';
import { traceMessage, type TraceDeps } from '../../ingest/message-trace.js';
import { wholeNumberParam } from '../query-params.js';

export interface MessageRouteDeps extends TraceDeps {
  readonly messages: MessageLog;
  /** Each engineer's saved searches (the Messages page). */
  readonly saved: SavedSearches;
  /** Queues a bulk replay of a search's rejected records; returns its id. */
  bulkReplay(request: BulkReplayRequest): Promise<string>;
  bulkReplayStatus(id: string): ReturnType<typeof bulkReplayStatus>;
}

/** A bulk replay asked for by query parameters: the search, `limit` (1 to 1000) and `perSecond` (1 to 50). */
export function bulkReplayRequest(
  req: Request,
  fields: Record<string, unknown>,
  by: string,
): BulkReplayRequest {
  const query = messageSearch(req);
  // From a form (text) or a JSON body (numbers).
  const numberOf = (value: unknown, fallback: number): number =>
    value === undefined || value === '' ? fallback : Number(value);
  const limit = numberOf(fields.limit, 100);
  const perSecond = numberOf(fields.perSecond, 5);
  const bad = [
    ...(Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? [] : ['limit']),
    ...(Number.isFinite(perSecond) && perSecond >= 1 && perSecond <= 50 ? [] : ['perSecond']),
  ];
  refuseFields(bad, 'limit must be 1 to 1000 and perSecond 1 to 50', {
    code: 'value',
    says: 'is out of range',
  });
  return { query, limit, perSecond, by };
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

/** A time bound of a search: a date (its start, UTC) or a date-time with its offset. */
function timeOf(value: unknown, name: string): number | undefined {
  const given = text(value);
  if (given === '') {
    return undefined;
  }
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(given) ? Date.parse(given) : NaN;
  if (Number.isNaN(at)) {
    throw new InvalidInputError(`${name} must be a date (YYYY-MM-DD) or a date-time with its offset`, [
      { severity: 'error', code: 'value', diagnostics: `${name} is not a time`, expression: [name] },
    ]);
  }
  return at;
}

/** A page of a message-log search: the search, `limit` (1 to 500) and `before` (the page's cursor). */
export function messageQuery(req: Request, defaultLimit: number): MessageQuery {
  const before = text(req.query.before);
  return {
    ...messageSearch(req),
    limit: wholeNumberParam(req.query, 'limit', { min: 1, max: 500 }) ?? defaultLimit,
    ...(before !== '' ? { before } : {}),
  };
}

/** A message-log search from query parameters (`key`, `partner`, `format`, `status`, `from`, `to`). */
function messageSearch(req: Request): Omit<MessageQuery, 'limit' | 'before'> {
  const status = text(req.query.status);
  if (status !== '' && status !== 'accepted' && status !== 'rejected') {
    throw new InvalidInputError('status must be accepted or rejected', [
      {
        severity: 'error',
        code: 'value',
        diagnostics: 'status must be accepted or rejected',
        expression: ['status'],
      },
    ]);
  }
  const from = timeOf(req.query.from, 'from');
  const to = timeOf(req.query.to, 'to');
  const fields = {
    key: text(req.query.key),
    partnerId: text(req.query.partner),
    format: text(req.query.format),
    status,
  };
  return {
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '')),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

/** The query string of a search's next page. */
export function nextPageQuery(query: MessageQuery, next: string): string {
  const params: Record<string, string> = {
    ...(query.key ? { key: query.key } : {}),
    ...(query.partnerId ? { partner: query.partnerId } : {}),
    ...(query.format ? { format: query.format } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.from !== undefined ? { from: new Date(query.from).toISOString() } : {}),
    ...(query.to !== undefined ? { to: new Date(query.to).toISOString() } : {}),
    limit: String(query.limit),
    before: next,
  };
  return new URLSearchParams(params).toString();
}

/** A logged message by id, or a 404 naming it. */
export async function loggedMessage(messages: MessageLog, id: string): Promise<LoggedMessage> {
  const message = await messages.get(id);
  if (!message) {
    throw new HubError('MESSAGES.NOT_FOUND', `No logged message ${id.slice(0, 80)}`, {
      status: 404,
      issues: [{ severity: 'error', code: 'not-found', diagnostics: `No logged message ${id.slice(0, 80)}` }],
    });
  }
  return message;
}

/**
 * The message log for engineers (behind the admin guard): `GET /admin/messages` searches it by
 * business key, partner, format, status and time, a page at a time (`Link: rel="next"`);
 * `GET /admin/messages/:id` is one message across its legs.
 */
export function messageRoutes(deps: MessageRouteDeps): Router {
  const router = Router();
  router.get('/admin/messages', async (req, res) => {
    const query = messageQuery(req, 100);
    const page = await deps.messages.find(query);
    if (page.next) {
      res.set('Link', `</admin/messages?${nextPageQuery(query, page.next)}>; rel="next"`);
    }
    res.json(page.items);
  });
  // The search in the query string, the pace in the body or the query string (limit, perSecond).
  router.post('/admin/messages/replay', express.json({ limit: '4kb' }), async (req, res) => {
    const fields = { ...req.query, ...((req.body ?? {}) as Record<string, unknown>) };
    const id = await deps.bulkReplay(bulkReplayRequest(req, fields, 'admin API'));
    res.status(202).location(`/admin/messages/replays/${id}`).json({ id, state: 'waiting' });
  });
  router.get('/admin/messages/replays/:id', async (req, res) => {
    const status = await deps.bulkReplayStatus(req.params.id);
    if (!status) {
      throw new HubError('MESSAGES.NOT_FOUND', `No bulk replay ${req.params.id.slice(0, 80)}`, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: 'No such bulk replay' }],
      });
    }
    res.json(status);
  });
  router.get('/admin/messages/:id', async (req, res) => {
    res.json(await traceMessage(deps, await loggedMessage(deps.messages, req.params.id)));
  });
  return router;
}
