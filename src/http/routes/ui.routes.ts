import type { AnyQueue } from '../../queues/queue-factory.js';
import express, { Router, type Request, type Response } from 'express';
import { DateTime } from 'luxon';
import { buildEvidence } from '../../coordination/evidence-service.js';
import { evidenceCsv, type EvidenceQuery } from '../../coordination/evidence.js';
import type { CoordinationDeps } from '../../coordination/coordination-deps.js';
import { recordHuddle, type HuddleInput } from '../../coordination/huddles.js';
import { nameOf, participantTimeline } from '../../ui/participant-timeline.js';
import { buildRoster } from '../../coordination/roster-service.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';
import type { Patient } from 'fhir/r4.js';
import type { DeliveryStatusStore } from '../../routing/delivery-status.js';
import type { RejectedStore } from '../../ingest/rejected-store.js';
import { listDeadLetters, replayDeadLetter } from '../../queues/dead-letters.js';
import { deliveryQueueName } from '../../routing/deliveries.queue.js';
import type { CircuitBreaker } from '../../routing/circuit-breaker.js';
import { staffExport } from '../../security/audit.js';
import type { StaffLogin } from '../../security/staff-login.js';
import type { Viewer } from '../../ui/html.js';
import { LIVE_REFRESH_SCRIPT } from '../../ui/live-refresh.js';
import {
  copyPage,
  evidencePage,
  loginPage,
  operationsPage,
  rosterPage,
  timelinePage,
} from '../../ui/views.js';
import {
  requirePageRole,
  sameOriginPosts,
  UI_COOKIE,
  cookieOf,
  type UiSessionDeps,
} from '../middleware/ui-session.js';
import { STAFF_SESSION_SECONDS } from './staff.routes.js';
import { huddleSchema } from './coordination.routes.js';
import { validBody } from '../validate-body.js';

export interface UiDeps {
  readonly session: UiSessionDeps;
  readonly login: StaffLogin;
  /** What the pages read and write through: the FHIR server, partners, the rules, the clock. */
  readonly coordination: Pick<
    CoordinationDeps,
    'fhir' | 'partners' | 'identifierBase' | 'now' | 'config' | 'scheduleObligationCheck'
  >;
  readonly status: DeliveryStatusStore;
  readonly queues: readonly AnyQueue[];
  readonly circuit: CircuitBreaker;
  readonly rejected: RejectedStore;
}

const viewerOf = (res: Response): Viewer => res.locals.viewer as Viewer;
const textOf = (value: unknown): string => (typeof value === 'string' ? value : '');
const ID = /^[A-Za-z0-9.-]{1,64}$/;
/** Roster rows shown before "show all". */
const ROSTER_ROWS = 100;

function idParam(req: Request): string {
  const id = String(req.params.id);
  if (!ID.test(id)) {
    throw new InvalidInputError(`Not a participant id: "${id.slice(0, 80)}"`, [
      { severity: 'error', code: 'value', diagnostics: 'id must be a FHIR id', expression: ['id'] },
    ]);
  }
  return id;
}

/** Only a path on the hub's pages, so the sign-in form cannot send anyone elsewhere. */
function safeNext(value: unknown): string {
  const next = textOf(value);
  return /^\/ui\/[A-Za-z0-9/_.?=&%-]*$/.test(next) ? next : '/ui/roster';
}

function day(value: unknown, fallback: string, name: string): string {
  const text = textOf(value);
  if (text === '') {
    return fallback;
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new InvalidInputError(`${name} must be a date (YYYY-MM-DD)`, [
      { severity: 'error', code: 'value', diagnostics: `${name} must be a date`, expression: [name] },
    ]);
  }
  return text;
}

/**
 * The hub's pages (issue 6), behind staff sessions (see {@link requirePageRole}):
 * - `/ui/roster`: the huddle roster, filters, recording a huddle decision; refreshes itself when
 *   the roster changes (coordinators, supervisors).
 * - `/ui/participants/:id`: the participant's timeline; `/copy`: their complete record, logged
 *   (coordinators, supervisors, auditors).
 * - `/ui/evidence` and `/ui/evidence.csv`: the commissioner evidence, CSV downloads logged
 *   (coordinators, supervisors, auditors).
 * - `/ui/operations`: partners' health, dead letters with replay, rejected records (engineers).
 */
export function uiRoutes(deps: UiDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 });
  const coordinators = requirePageRole(deps.session, ['coordinator', 'supervisor']);
  const readers = requirePageRole(deps.session, ['coordinator', 'supervisor', 'auditor']);
  const engineers = requirePageRole(deps.session, ['engineer']);
  const html = (res: Response, body: string): void => {
    res.type('html').set('cache-control', 'no-store').send(body);
  };
  const { fhir, partners, identifierBase, now, config } = deps.coordination;
  const timeZone = config.calendars.timeZone;
  const rosterDeps = { fhir, identifierBase, config, now };
  const timelineDeps = { fhir, status: deps.status, now };
  const evidenceDeps = { fhir, identifierBase, now };
  const audit = (viewer: Viewer, what: string, patient?: string): Promise<unknown> =>
    fhir.create(
      staffExport(
        { staff: `${viewer.username} (${viewer.role})`, what, ...(patient ? { patient } : {}) },
        now(),
      ),
    );

  router.use('/ui', (_req, res, next) => {
    // The pages load only their own script and post only to the hub; same-origin referrers let
    // the browser say where a form came from (sameOriginPosts).
    res.set({
      'content-security-policy':
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'referrer-policy': 'same-origin',
    });
    next();
  });
  router.use('/ui', sameOriginPosts);
  router.get('/ui', (_req, res) => res.redirect(303, '/ui/roster'));
  router.get('/ui/assets/live.js', (_req, res) => {
    res.type('text/javascript').set('cache-control', 'no-cache').send(LIVE_REFRESH_SCRIPT);
  });

  router.get('/ui/login', (req, res) => html(res, loginPage({ next: safeNext(req.query.next) })));
  router.post('/ui/login', form, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    let account;
    try {
      account = await deps.login.signIn(textOf(body.username), textOf(body.password));
    } catch (err) {
      if (!(err instanceof HubError)) {
        throw err;
      }
      res.status(err.status);
      const error = err.status === 429 ? `${err.message}.` : 'Unknown user name or wrong password.';
      html(res, loginPage({ next: safeNext(body.next), error }));
      return;
    }
    const token = await deps.session.sessions.issue(
      account.username,
      [account.role],
      STAFF_SESSION_SECONDS,
      deps.session.now(),
    );
    res.cookie(UI_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/ui',
      maxAge: STAFF_SESSION_SECONDS * 1000,
      secure: req.secure || deps.session.httpsPublic === true,
    });
    res.redirect(
      303,
      account.role === 'engineer' && safeNext(body.next) === '/ui/roster'
        ? '/ui/operations'
        : safeNext(body.next),
    );
  });
  router.post('/ui/logout', async (req, res) => {
    const token = cookieOf(req, UI_COOKIE);
    if (token) {
      await deps.session.sessions.revoke(token);
    }
    res.clearCookie(UI_COOKIE, { path: '/ui' });
    res.redirect(303, '/ui/login');
  });

  const rosterFilter = (req: Request): { agency?: string; flag?: string } => ({
    ...(partners.get(textOf(req.query.agency)) ? { agency: textOf(req.query.agency) } : {}),
    ...(Object.hasOwn(config.roster.flags, textOf(req.query.flag)) ? { flag: textOf(req.query.flag) } : {}),
  });
  const agencies = partners.all().map((p) => ({ value: p.id, label: p.name }));
  // What the live roster watches: the newest change to any Task, Flag or CareTeam, three one-row
  // searches, where recomputing the roster every 10 s per open page would redo its whole work.
  const rosterStamp = async (): Promise<string> => {
    const newest = await Promise.all(
      ['Task', 'Flag', 'CareTeam'].map(
        async (type) =>
          (await fhir.searchPage(type, { _sort: '-_lastUpdated', _count: 1, _elements: 'id' })).entry?.[0]
            ?.resource?.meta?.lastUpdated ?? '',
      ),
    );
    return newest.join('|');
  };

  router.get('/ui/roster', coordinators, async (req, res) => {
    const filter = rosterFilter(req);
    const entries = await buildRoster(rosterDeps, filter);
    // The huddle works down from the top: the first ROSTER_ROWS unless everyone is asked for.
    const all = req.query.show === 'all';
    html(
      res,
      rosterPage({
        viewer: viewerOf(res),
        entries: all ? entries : entries.slice(0, ROSTER_ROWS),
        total: entries.length,
        showAllUrl: `/ui/roster?${new URLSearchParams({ ...filter, show: 'all' }).toString()}`,
        agencies,
        flags: Object.entries(config.roster.flags).map(([code, rule]) => ({
          value: code,
          label: rule.label ?? code,
        })),
        filter,
        timeZone,
        today: DateTime.fromJSDate(now(), { zone: timeZone }).toISODate() ?? '',
        liveUrl: '/ui/roster/stamp',
        ...(req.query.recorded ? { notice: `Huddle recorded: ${textOf(req.query.recorded)}` } : {}),
      }),
    );
  });
  router.get('/ui/roster/stamp', coordinators, async (_req, res) => {
    res.set('cache-control', 'no-store').json({ stamp: await rosterStamp() });
  });

  router.post('/ui/huddles', coordinators, form, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const attended = ([] as unknown[]).concat(body.attended ?? []).map(textOf);
    const due = DateTime.fromISO(textOf(body.due), { zone: timeZone });
    if (!due.isValid) {
      throw new InvalidInputError('due must be a date and time', [
        { severity: 'error', code: 'value', diagnostics: 'due must be a date and time', expression: ['due'] },
      ]);
    }
    const input = validBody<HuddleInput>(huddleSchema, {
      date: day(body.date, DateTime.now().setZone(timeZone).toISODate() ?? '', 'date'),
      attendees: attended.map((organization) => ({
        organization,
        display: textOf(body[`attendee-${organization}`]).trim() || viewerOf(res).username,
      })),
      decisions: [
        {
          participant: textOf(body.participant),
          decision: textOf(body.decision),
          owner: textOf(body.owner),
          due: due.toUTC().toISO() ?? '',
        },
      ],
    });
    const log = await recordHuddle(deps.coordination, input);
    res.redirect(303, `/ui/roster?recorded=${encodeURIComponent(log.huddle)}`);
  });

  router.get('/ui/participants/:id', readers, async (req, res) => {
    const timeline = await participantTimeline(timelineDeps, idParam(req));
    html(res, timelinePage({ viewer: viewerOf(res), timeline, timeZone }));
  });
  router.get('/ui/participants/:id/copy', readers, async (req, res) => {
    const id = idParam(req);
    const resources = await fhir.everything(id);
    const patient = resources.find((r): r is Patient => r.resourceType === 'Patient' && r.id === id);
    if (!patient) {
      throw new HubError('UI.NOT_FOUND', `No participant Patient/${id}`, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: `No participant Patient/${id}` }],
      });
    }
    await audit(
      viewerOf(res),
      `Participant copy of the record (${resources.length} resources)`,
      `Patient/${id}`,
    );
    html(
      res,
      copyPage({
        viewer: viewerOf(res),
        name: nameOf(patient),
        resources,
        generatedAt: new Date().toISOString(),
      }),
    );
  });

  const evidenceQuery = (req: Request): EvidenceQuery => {
    const today = DateTime.fromJSDate(now(), { zone: timeZone });
    const q = {
      from: day(req.query.from, today.minus({ days: 30 }).toISODate() ?? '', 'from'),
      to: day(req.query.to, today.plus({ days: 1 }).toISODate() ?? '', 'to'),
      ...(partners.get(textOf(req.query.agency)) ? { agency: textOf(req.query.agency) } : {}),
    };
    if (q.from >= q.to) {
      throw new InvalidInputError('from must be before to', [
        { severity: 'error', code: 'value', diagnostics: 'from must be before to', expression: ['from'] },
      ]);
    }
    return q;
  };
  router.get('/ui/evidence', readers, async (req, res) => {
    const q = evidenceQuery(req);
    const report = await buildEvidence(evidenceDeps, q);
    const csvUrl = `/ui/evidence.csv?${new URLSearchParams({ from: q.from, to: q.to, ...(q.agency ? { agency: q.agency } : {}) }).toString()}`;
    html(res, evidencePage({ viewer: viewerOf(res), report, agencies, csvUrl }));
  });
  router.get('/ui/evidence.csv', readers, async (req, res) => {
    const q = evidenceQuery(req);
    const report = await buildEvidence(evidenceDeps, q);
    await audit(viewerOf(res), `Coordination evidence CSV ${q.from}/${q.to} ${q.agency ?? 'all agencies'}`);
    res
      .type('text/csv')
      .set(
        'content-disposition',
        `attachment; filename="evidence-${q.from}-${q.to}${q.agency ? `-${q.agency}` : ''}.csv"`,
      )
      .send(evidenceCsv(report));
  });

  router.get('/ui/operations', engineers, async (req, res) => {
    const at = now().getTime();
    const health = await Promise.all(
      partners.all().map(async (p) => {
        const queue = deps.queues.find((q) => q.name === deliveryQueueName(p.id));
        return {
          id: p.id,
          name: p.name,
          ...(p.outbound ? { transport: p.outbound.transport } : {}),
          circuitOpen: p.outbound ? await deps.circuit.isOpen(p.id, at) : false,
          ...(queue ? { queue: await queue.getJobCounts('waiting', 'delayed', 'failed') } : {}),
        };
      }),
    );
    html(
      res,
      operationsPage({
        viewer: viewerOf(res),
        partners: health,
        deadLetters: await listDeadLetters(deps.queues, 100),
        rejected: await deps.rejected.list({ limit: 100 }),
        timeZone,
        ...(req.query.replayed ? { notice: `Replayed ${textOf(req.query.replayed)}` } : {}),
      }),
    );
  });
  router.post('/ui/operations/dead-letters/:queue/:jobId/replay', engineers, async (req, res) => {
    const queue = deps.queues.find((q) => q.name === req.params.queue);
    const jobId = String(req.params.jobId);
    if (!queue || !(await replayDeadLetter(queue, jobId))) {
      throw new HubError('UI.NOT_FOUND', `No dead letter ${jobId} in ${String(req.params.queue)}`, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: `No dead letter ${jobId}` }],
      });
    }
    res.redirect(303, `/ui/operations?replayed=${encodeURIComponent(jobId)}`);
  });
  return router;
}
