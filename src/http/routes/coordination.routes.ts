import express, { Router, type Request } from 'express';
import { verifyJsonDepth } from '../middleware/hardening.js';
import {
  reportObligation,
  type CompleteDeps,
  type ObligationReport,
} from '../../coordination/complete-obligation.js';
import {
  assignCoordinator,
  coordinatorOn,
  handOverCoordinator,
  type CoordinatorAssignment,
  type CoordinatorDeps,
  type NamedCoordinator,
} from '../../coordination/coordinator-assignment.js';
import { huddleLog, recordHuddle, type HuddleInput } from '../../coordination/huddles.js';
import { endCareTeamMembership } from '../../coordination/care-team-membership.js';
import type { RosterReader } from '../../coordination/roster-service.js';
import type { RosterEntry } from '../../coordination/roster.rules.js';
import { grantPart2Consent, revokeConsent, type ConsentDeps } from '../../routing/consents.js';
import type { CoordinationDeps } from '../../coordination/coordination-deps.js';
import { ForbiddenError } from '../../errors/hub-error.js';
import { moveReferral, type ReferralMove } from '../../coordination/referrals.js';
import { validBody } from '../validate-body.js';
import { wholeNumberParam } from '../query-params.js';
import {
  assignmentSchema,
  consentSchema,
  endMembershipSchema,
  handoverSchema,
  huddleSchema,
  referralMoveSchema,
  reportSchema,
} from '../request-schemas.js';

export type CoordinationRouteDeps = CoordinatorDeps &
  CompleteDeps &
  ConsentDeps & { readonly roster: RosterReader } & Pick<
    CoordinationDeps,
    'scheduleObligationCheck' | 'enqueueEscalations'
  >;

function queryDate(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined;
}

/**
 * The operating model's API (operating rules 1, 5, 6, README):
 * - `GET /participants/:id/coordinator[?date=]`: the coordinator of the day (404 naming the roster
 *   alert when nobody is named); `POST` adds a coordinator or absence cover; `POST
 *   .../coordinator/handover` hands the role over from a day.
 * - `POST /partners/:partnerId/tasks/:id/status` `{status, reason?}`: a step on a referral, by its
 *   owner (take it up, turn it down, work it) or its requester (cancel); the other side is told.
 * - `POST /tasks/:id/report`: the owning agency closes an obligation, completed (stamped on time or
 *   late) or refused by the participant with how the refusal was handled.
 * - `GET /roster[?agency=&flag=]`: today's huddle roster, ranked with reasons.
 * - `POST /huddles`, `GET /huddles/:id`: the huddle log, attendance, decisions and closed actions.
 * - `POST /participants/:id/care-team/:partnerId/end` `{reason}`: staff end an agency's place on
 *   the participant's care team.
 * - `POST /participants/:id/consents` `{recipient, until?}`: the participant's 42 CFR Part 2 consent
 *   to disclosure to a partner (releases what was withheld); `POST /consents/:id/revoke`.
 */
export function coordinationRoutes(deps: CoordinationRouteDeps): Router {
  const router = Router();
  const json = express.json({
    type: ['application/json', 'application/fhir+json'],
    limit: '256kb',
    verify: verifyJsonDepth,
  });

  router.get('/participants/:id/coordinator', async (req, res) => {
    res.json(await coordinatorOn(deps, req.params.id, queryDate(req.query.date)));
  });

  router.post('/participants/:id/coordinator', json, async (req, res) => {
    const assignment = validBody<CoordinatorAssignment>(assignmentSchema, req.body);
    res.status(201).json(await assignCoordinator(deps, req.params.id, assignment));
  });

  router.post('/participants/:id/coordinator/handover', json, async (req, res) => {
    const body = validBody<{ to: NamedCoordinator; on: string; note?: string }>(handoverSchema, req.body);
    res.json(await handOverCoordinator(deps, req.params.id, body.to, body.on, body.note));
  });

  router.post('/partners/:partnerId/tasks/:id/status', json, async (req, res) => {
    const move = validBody<ReferralMove>(referralMoveSchema, req.body);
    res.json(await moveReferral(deps, req.params.id, req.params.partnerId, move));
  });

  router.post('/tasks/:id/report', json, async (req, res) => {
    const report = validBody<ObligationReport>(reportSchema, req.body);
    const authenticated = res.locals.partnerId as string | undefined;
    if (authenticated && authenticated !== report.by) {
      const message = `by is ${report.by}, but the access token is ${authenticated}'s`;
      throw new ForbiddenError('AUTH.FORBIDDEN', message, 'by');
    }
    res.json(await reportObligation(deps, req.params.id, report));
  });

  router.get('/roster', async (req, res) => {
    const agency = typeof req.query.agency === 'string' ? req.query.agency : undefined;
    const flag = typeof req.query.flag === 'string' ? req.query.flag : undefined;
    const page = rosterSlice(req.query);
    const entries = await deps.roster({ ...(agency ? { agency } : {}), ...(flag ? { flag } : {}) });
    const end = page.limit === undefined ? entries.length : page.offset + page.limit;
    if (end < entries.length) {
      const next = new URLSearchParams({
        ...(agency ? { agency } : {}),
        ...(flag ? { flag } : {}),
        limit: String(page.limit),
        offset: String(end),
      });
      res.set('Link', `</roster?${next.toString()}>; rel="next"`);
    }
    const generatedAt = deps.now().toISOString();
    if (page.offset === 0 && end >= entries.length) {
      // The whole roster: its JSON, megabytes at 10,000 participants, is kept with the ranking and
      // written as it is, around a head of its own; building and hashing a body for each request
      // (res.send's ETag could never match: generatedAt changes) cost more than the rest.
      const head = Buffer.from(`{"generatedAt":"${generatedAt}","total":${entries.length},"entries":`);
      const body = wholeJson(entries);
      res.type('json').set('Content-Length', String(head.length + body.length + 1));
      res.write(head);
      res.write(body);
      res.end('}');
      return;
    }
    res.json({ generatedAt, total: entries.length, entries: entries.slice(page.offset, end) });
  });

  router.post('/huddles', json, async (req, res) => {
    res.status(201).json(await recordHuddle(deps, validBody<HuddleInput>(huddleSchema, req.body)));
  });

  router.post('/participants/:id/consents', json, async (req, res) => {
    const body = validBody<{ recipient: string; until?: string }>(consentSchema, req.body);
    const staff = res.locals.staff as { username: string; role: string } | undefined;
    const by = staff ? `${staff.username} (${staff.role})` : undefined;
    res.status(201).json(await grantPart2Consent(deps, req.params.id, body.recipient, body.until, by));
  });

  router.post('/participants/:id/care-team/:partnerId/end', json, async (req, res) => {
    const body = validBody<{ reason: string }>(endMembershipSchema, req.body);
    const staff = res.locals.staff as { username: string; role: string } | undefined;
    const by = staff ? `${staff.username} (${staff.role})` : 'break-glass (ADMIN_TOKEN)';
    res.json(await endCareTeamMembership(deps, req.params.id, req.params.partnerId, body.reason, by));
  });

  router.post('/consents/:id/revoke', async (req, res) => {
    res.json(await revokeConsent(deps, req.params.id));
  });

  router.get('/huddles/:id', async (req, res) => {
    res.json(await huddleLog(deps, req.params.id));
  });

  return router;
}

/**
 * The JSON of a ranked roster (UTF-8), written once per ranking: the roster index hands out the
 * same ranking (the same array) until data, day or clock changes it.
 */
const rosterJson = new WeakMap<readonly RosterEntry[], Buffer>();

function wholeJson(entries: readonly RosterEntry[]): Buffer {
  let json = rosterJson.get(entries);
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(entries));
    rosterJson.set(entries, json);
  }
  return json;
}

/**
 * Which part of the ranked roster to answer (`?limit=&offset=`; all of it by default). Ranks are
 * the whole roster's; a change between two reads ranks it again, so a page is of its read's order.
 */
function rosterSlice(query: Request['query']): { limit?: number; offset: number } {
  const limit = wholeNumberParam(query, 'limit', { min: 1, max: 1000 });
  return {
    ...(limit === undefined ? {} : { limit }),
    offset: wholeNumberParam(query, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0,
  };
}
