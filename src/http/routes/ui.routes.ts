import type { AnyQueue } from '../../queues/queue-factory.js';
import express, { Router, type Request, type Response } from 'express';
import { DateTime } from 'luxon';
import { buildEvidence } from '../../coordination/evidence-service.js';
import { evidenceCsv, type EvidenceQuery } from '../../coordination/evidence.js';
import type { CoordinationDeps } from '../../coordination/coordination-deps.js';
import { recordHuddle, type HuddleInput } from '../../coordination/huddles.js';
import { nameOf, participantTimeline } from '../../ui/participant-timeline.js';
import type { RosterReader } from '../../coordination/roster-service.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';
import type { Communication, Patient } from 'fhir/r4.js';
import { hubSystem } from '../../fhir/hub-identifiers.js';
import type { DeliveryStatusStore } from '../../routing/delivery-status.js';
import type { RejectedStore } from '../../ingest/rejected-store.js';
import { listDeadLetters, replayDeadLetter } from '../../queues/dead-letters.js';
import { deliveryQueueName } from '../../routing/deliveries.queue.js';
import type { CircuitBreaker } from '../../outbound/circuit-breaker.js';
import { staffEdit, staffExport } from '../../security/audit.js';
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
import {
  bulkReplayRequest,
  loggedMessage,
  messageQuery,
  nextPageQuery,
  type MessageRouteDeps,
} from './messages.routes.js';
import { traceMessage } from '../../ingest/message-trace.js';
import { messagePage, messagesPage, rejectionPage } from '../../ui/message-views.js';
import { findRejection } from './ingest.routes.js';
import type { IngestService } from '../../ingest/ingest-service.js';
import type { AlertRecord } from '../../alerts/alert-monitor.js';
import { decideIdentity, heldForReview, type IdentityChoice } from '../../ingest/identity-decision.js';
import { identitiesPage } from '../../ui/identity-views.js';
import { mappingBenchPage } from '../../ui/bench-views.js';
import { throughputPage } from '../../ui/throughput-views.js';
import type { ThroughputCount } from '../../metrics/throughput.js';
import { benchSample } from '../../ingest/mapping-bench.js';
import type { FormatHandlers } from '../../ingest/formats.js';
import type { InboundFormat } from '../../config/inbound-formats.js';
import { huddleSchema } from '../request-schemas.js';
import { refuseFields, validBody } from '../validate-body.js';

export interface UiDeps {
  readonly session: UiSessionDeps;
  readonly login: StaffLogin;
  /** What the pages read and write through: the FHIR server, partners, the rules, the clock. */
  readonly coordination: Pick<
    CoordinationDeps,
    | 'fhir'
    | 'partners'
    | 'identifierBase'
    | 'now'
    | 'config'
    | 'scheduleObligationCheck'
    | 'enqueueEscalations'
  >;
  /** Today's roster (the roster index). */
  readonly roster: RosterReader;
  readonly status: DeliveryStatusStore;
  readonly queues: readonly AnyQueue[];
  readonly circuit: CircuitBreaker;
  readonly rejected: RejectedStore;
  /** The message log and its cross-leg view; absent, the Messages pages are not served. */
  readonly messages?: MessageRouteDeps;
  /** Replays an engineer's edit of a rejected record; absent, rejections are shown without the form. */
  readonly replay?: IngestService['replay'];
  /** The identity review's decisions; absent, the review is not served. */
  readonly identities?: Pick<IngestService, 'participantOf' | 'resolveIdentity'>;
  /** The adapters and mappers the mapping test bench tries samples with; absent, it is not served. */
  readonly formats?: FormatHandlers;
  /** Hourly counts per partner and format (metrics/throughput.ts); absent, the page is not served. */
  readonly throughput?: (from: Date, to: Date) => Promise<ThroughputCount[]>;
  /** The engineers' alerts, raised and recent; absent, the operations page shows none. */
  readonly alerts?: () => Promise<{ active: AlertRecord[]; history: AlertRecord[] }>;
}

const viewerOf = (res: Response): Viewer => res.locals.viewer as Viewer;
/** The signed-in member of staff as audit records name them: `username (role)`. */
const staffOf = (res: Response): string => `${viewerOf(res).username} (${viewerOf(res).role})`;

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
 * - `/ui/messages`: the message log, searched by business key; `/ui/messages/:id`: one message
 *   across its legs; `/ui/rejected/:id`: a rejected record, edited and replayed;
 *   `/ui/identities`: records held for an identity conflict, decided; `/ui/mapping-bench`: a
 *   sample through the active and a candidate partner file; `/ui/throughput`: hourly counts per
 *   partner and format (engineers).
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
          (
            await fhir.searchPage(
              type,
              { _sort: '-_lastUpdated', _count: 1, _elements: 'id' },
              { firstPageOnly: true },
            )
          ).entry?.[0]?.resource?.meta?.lastUpdated ?? '',
      ),
    );
    return newest.join('|');
  };

  router.get('/ui/roster', coordinators, async (req, res) => {
    const filter = rosterFilter(req);
    const entries = await deps.roster(filter);
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
      // The hub's days: the default period ends after today there.
      to: day(req.query.to, today.plus({ days: 1 }).toISODate() ?? '', 'to'),
      ...(partners.get(textOf(req.query.agency)) ? { agency: textOf(req.query.agency) } : {}),
      timeZone,
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
    const before = typeof req.query.before === 'string' ? req.query.before : undefined;
    const rejected = await deps.rejected.page({ limit: 100, ...(before ? { before } : {}) });
    const alerts = (await deps.alerts?.()) ?? { active: [], history: [] };
    html(
      res,
      operationsPage({
        viewer: viewerOf(res),
        alerts,
        partners: health,
        deadLetters: await listDeadLetters(deps.queues, 100),
        rejected: rejected.items,
        ...(rejected.next ? { rejectedNext: rejected.next } : {}),
        timeZone,
        ...(req.query.replayed ? { notice: `Replayed ${textOf(req.query.replayed)}` } : {}),
      }),
    );
  });
  const messageDeps = deps.messages;
  if (messageDeps) {
    router.get('/ui/messages', engineers, async (req, res) => {
      const query = messageQuery(req, 50);
      const found = await messageDeps.messages.find(query);
      const search = Object.fromEntries(
        ['key', 'partner', 'format', 'status', 'from', 'to'].map((k) => [k, textOf(req.query[k])]),
      );
      const viewer = viewerOf(res);
      const asked = new URLSearchParams(
        Object.entries(search).filter(([, value]) => value !== ''),
      ).toString();
      html(
        res,
        messagesPage({
          viewer,
          search,
          messages: found.items,
          ...(found.next ? { nextQuery: nextPageQuery(query, found.next) } : {}),
          saved: await messageDeps.saved.list(viewer.username),
          query: asked,
          ...(textOf(req.query.notice) ? { notice: textOf(req.query.notice) } : {}),
          timeZone,
        }),
      );
    });
    router.post('/ui/messages/replay', engineers, form, async (req, res) => {
      const by = staffOf(res);
      const request = bulkReplayRequest(req, (req.body ?? {}) as Record<string, unknown>, by);
      const id = await messageDeps.bulkReplay(request);
      const searched = new URLSearchParams(
        Object.entries(req.query).filter(
          (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'notice',
        ),
      );
      await fhir.create(
        staffEdit(
          {
            staff: by,
            what: `bulk replay ${id} of the rejected records of the message search ${searched.toString() || '(all)'}`,
            reason: `at most ${request.limit}, ${request.perSecond} a second`,
          },
          now(),
        ),
      );
      searched.set(
        'notice',
        `Bulk replay ${id} queued: at most ${request.limit} records, ${request.perSecond} a second`,
      );
      res.redirect(303, `/ui/messages?${searched.toString()}`);
    });
    router.post('/ui/messages/saved', engineers, form, async (req, res) => {
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const name = textOf(fields.name).trim().slice(0, 80);
      // Only a query string of this page: a saved search can lead nowhere else.
      const query = new URLSearchParams(textOf(fields.query)).toString();
      refuseFields(name ? [] : ['name']);
      await messageDeps.saved.save(viewerOf(res).username, name, query);
      res.redirect(303, `/ui/messages?${query}`);
    });
    router.post('/ui/messages/saved/delete', engineers, form, async (req, res) => {
      const fields = (req.body ?? {}) as Record<string, unknown>;
      await messageDeps.saved.remove(viewerOf(res).username, textOf(fields.name));
      res.redirect(303, '/ui/messages');
    });
    router.get('/ui/messages/:id', engineers, async (req, res) => {
      const trace = await traceMessage(
        messageDeps,
        await loggedMessage(messageDeps.messages, String(req.params.id)),
      );
      html(res, messagePage({ viewer: viewerOf(res), trace, timeZone }));
    });
  }
  const replay = deps.replay;
  if (replay) {
    router.get('/ui/rejected/:id', engineers, async (req, res) => {
      const rejection = await findRejection(deps.rejected, String(req.params.id));
      const carrier = rejection.id.replace(/^write-/, '');
      const message = (await deps.messages?.messages.find({ key: carrier, limit: 1 }))?.items[0];
      html(
        res,
        rejectionPage({ viewer: viewerOf(res), rejection, ...(message ? { message } : {}), timeZone }),
      );
    });
    router.post('/ui/rejected/:id/replay', engineers, form, async (req, res) => {
      const rejection = await findRejection(deps.rejected, String(req.params.id));
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const body = textOf(fields.body);
      const reason = textOf(fields.reason).trim();
      const missing = [...(body.trim() ? [] : ['body']), ...(reason ? [] : ['reason'])];
      refuseFields(missing);
      const by = staffOf(res);
      const report = await replay(rejection, Buffer.from(body, 'utf8'), { by, reason: reason.slice(0, 500) });
      await fhir.create(
        staffEdit(
          {
            staff: by,
            what: `rejected record ${rejection.id} (${rejection.partnerId} ${rejection.location}), edited and replayed`,
            reason,
          },
          now(),
        ),
      );
      res.redirect(
        303,
        report.messageId
          ? `/ui/messages/${report.messageId}`
          : `/ui/operations?replayed=${encodeURIComponent(rejection.id)}`,
      );
    });
  }
  const identities = deps.identities;
  if (identities) {
    const identityDeps = { fhir, rejected: deps.rejected, ingest: identities, now };
    router.get('/ui/identities', engineers, async (req, res) => {
      const cases = await heldForReview(identityDeps, 20);
      // Merges made by HL7 A40s and by this review, newest first: their notices say which and when.
      const merges = await fhir.search<Communication>(
        'Communication',
        { identifier: `${hubSystem(identifierBase, 'merge-notice')}|`, _sort: '-sent', _count: '20' },
        1,
      );
      const done = textOf(req.query.done);
      html(
        res,
        identitiesPage({ viewer: viewerOf(res), cases, merges, timeZone, ...(done ? { notice: done } : {}) }),
      );
    });
    router.post('/ui/identities/:id', engineers, form, async (req, res) => {
      const rejection = await findRejection(deps.rejected, String(req.params.id));
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const decision = textOf(fields.decision);
      const reason = textOf(fields.reason).trim().slice(0, 500);
      const refused = [
        ...(/^(same:[A-Za-z0-9.-]{1,64}|different|discard)$/.test(decision) ? [] : ['decision']),
        ...(reason ? [] : ['reason']),
      ];
      refuseFields(refused);
      const identifiers = identities.participantOf(rejection)?.identifiers ?? [];
      const corrected = Object.fromEntries(
        identifiers.flatMap((i, n) => {
          const value = textOf(fields[`correct-${n}`]).trim();
          return i.system && value ? [[i.system, value]] : [];
        }),
      );
      const choice: IdentityChoice =
        decision === 'discard'
          ? { kind: 'discard' }
          : decision.startsWith('same:')
            ? { kind: 'same', patientId: decision.slice('same:'.length) }
            : { kind: 'different', corrected };
      const decided = await decideIdentity(identityDeps, rejection, choice, staffOf(res), reason);
      res.redirect(
        303,
        decided.messageId
          ? `/ui/messages/${decided.messageId}`
          : `/ui/identities?done=${encodeURIComponent(`${rejection.location}: ${decided.outcome}`)}`,
      );
    });
  }
  const throughput = deps.throughput;
  if (throughput) {
    router.get('/ui/throughput', engineers, async (req, res) => {
      const days = Math.min(7, Math.max(1, Number(textOf(req.query.days)) || 2));
      const partner = partners.get(textOf(req.query.partner))?.id;
      const to = now();
      const counts = (await throughput(new Date(to.getTime() - days * 24 * 3_600_000), to)).filter(
        (c) => !partner || c.partnerId === partner,
      );
      html(
        res,
        throughputPage({
          viewer: viewerOf(res),
          days,
          ...(partner ? { partner } : {}),
          partners: partners.all().map((p) => p.id),
          counts,
          timeZone,
        }),
      );
    });
  }
  const formats = deps.formats;
  if (formats) {
    const partnerIds = (): string[] => partners.all().map((p) => p.id);
    const formatNames = Object.keys(formats);
    // Samples are larger than the other forms: up to 2 MB, one sample and one file.
    const sampleForm = express.urlencoded({ extended: false, limit: '2mb', parameterLimit: 10 });
    router.get('/ui/mapping-bench', engineers, (req, res) => {
      const form = { partner: textOf(req.query.partner), format: textOf(req.query.format) };
      html(
        res,
        mappingBenchPage({ viewer: viewerOf(res), partners: partnerIds(), formats: formatNames, form }),
      );
    });
    router.post('/ui/mapping-bench', engineers, sampleForm, async (req, res) => {
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const form = {
        partner: textOf(fields.partner),
        format: textOf(fields.format),
        sample: textOf(fields.sample),
        candidate: textOf(fields.candidate),
        validate: fields.validate === 'on',
      };
      const partner = partners.get(form.partner);
      const refused = [
        ...(partner ? [] : ['partner']),
        ...(formatNames.includes(form.format) ? [] : ['format']),
        ...(form.sample.trim() ? [] : ['sample']),
      ];
      refuseFields(refused, `${refused.join(', ')}: choose a partner and a format, and paste a sample`);
      const report = await benchSample({
        partner: partner!,
        format: form.format as InboundFormat,
        sample: Buffer.from(form.sample, 'utf8'),
        candidateText: form.candidate,
        identifierBase,
        formats,
        ...(form.validate ? { validate: (resource) => fhir.validate(resource) } : {}),
      });
      html(
        res,
        mappingBenchPage({
          viewer: viewerOf(res),
          partners: partnerIds(),
          formats: formatNames,
          form,
          report,
        }),
      );
    });
  }
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
