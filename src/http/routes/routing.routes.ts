import express, { Router } from 'express';
import { verifyJsonDepth } from '../middleware/hardening.js';
import type { AnyQueue } from '../../queues/queue-factory.js';
import type { CarePlan, Identifier, Resource, Task } from 'fhir/r4.js';
import { InvalidFhirIdError, ResourceNotFoundError } from '../../fhir/fhir-errors.js';
import { HOOK_SECRET_HEADER } from '../../fhir/subscriptions.js';
import { secretMatches } from '../../security/hook-secret.js';
import { ForbiddenError, HubError, InvalidInputError } from '../../errors/hub-error.js';
import type { RefusedAccess } from '../../security/audit.js';
import { partnerMayRead } from '../../security/read-access.js';
import { outcome } from '../../errors/to-operation-outcome.js';
import { sendFhir } from '../fhir-format.js';
import type { FhirGateway } from '../../fhir/fhir-gateway.js';
import { getDeadLetter, listDeadLetters, replayDeadLetter } from '../../queues/dead-letters.js';
import { WAIT_FOR_WRITER_MS, type PlanChangeJobData } from '../../routing/plan-changes.queue.js';
import { isAckTask, stepOfStatus, type AckStep } from '../../routing/acknowledge.js';
import { acknowledgmentSchema } from '../request-schemas.js';
import { validBody } from '../validate-body.js';
import { ackTaskFor, recordAcknowledgment, recordTaskStep } from '../../routing/record-acknowledgment.js';
import {
  DELIVERY_STEPS,
  type DeliveryStatusStore,
  type DeliveryStep,
} from '../../routing/delivery-status.js';

export interface RoutingRouteDeps {
  readonly fhir: FhirGateway;
  readonly status: DeliveryStatusStore;
  readonly identifierBase: string;
  readonly queues: readonly AnyQueue[];
  readonly now: () => Date;
  /** Whether a partner id names a configured partner (routes under `/partners/:partnerId`). */
  isPartner(partnerId: string): boolean;
  enqueuePlanChange(data: PlanChangeJobData, opts?: { delayMs?: number }): Promise<void>;
  /** Records a refused read (aggregated AuditEvents). */
  readonly onRefused?: (refused: RefusedAccess) => void;
  /** What the FHIR server's rest-hook calls must carry in {@link HOOK_SECRET_HEADER}. */
  readonly hookSecret: string;
  /** Whether the hub wrote this plan version itself (its write kept it for the capture). */
  wroteVersion?(carePlanId: string, version: string): Promise<boolean>;
  /** Whether the hub is writing a CarePlan holding any of these identifiers right now. */
  planBeingWritten?(identifiers: readonly Identifier[]): Promise<boolean>;
}

/** Whether the FHIR server holds a CarePlan version. */
async function heldOnServer(fhir: FhirGateway, carePlanId: string, version: string): Promise<boolean> {
  try {
    await fhir.vread<CarePlan>('CarePlan', carePlanId, version);
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundError || err instanceof InvalidFhirIdError) {
      return false;
    }
    throw err;
  }
}

/**
 * - `POST /partners/:partnerId/acknowledgments` `{ "carePlan": "CarePlan/1", "version": "3",
 *   "status": "received" | "accepted" | "completed" }`: a partner reports on a plan version (the
 *   Task owner only; `completed`, the default, is the acknowledgment).
 * - `GET /partners/:partnerId/tasks?status=requested`: a partner without a push endpoint (or whose
 *   circuit is open) pulls its pending Tasks, as a FHIR searchset Bundle.
 * - `GET /careplans/:id/versions/:version/deliveries[?notYet=accepted]`: where each partner stands
 *   with a plan version (sent, delivered, received, accepted, completed, failed, superseded) and
 *   since when; `notYet` lists the partners that have not reached a step.
 * - `PUT|POST /hooks/fhir/...`: the FHIR server's rest-hook Subscriptions (CarePlan versions, and
 *   acknowledgment Tasks completed directly on the server).
 * - `/admin/dead-letters`: list, inspect and replay failed jobs of every queue.
 */
export function routingRoutes(deps: RoutingRouteDeps): Router {
  const router = Router();
  router.param('partnerId', (_req, _res, next, partnerId: string) => {
    if (!deps.isPartner(partnerId)) {
      const message = `Unknown partner "${partnerId.slice(0, 64)}"`;
      throw new HubError('PARTNER.UNKNOWN', message, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: message }],
      });
    }
    next();
  });
  const json = express.json({
    type: ['application/json', 'application/fhir+json'],
    limit: '1mb',
    verify: verifyJsonDepth,
  });

  router.post('/partners/:partnerId/acknowledgments', json, async (req, res) => {
    const body = validBody<{ carePlan: string; version: string | number; status?: AckStep }>(
      acknowledgmentSchema,
      req.body,
    );
    const planId = body.carePlan.slice('CarePlan/'.length);
    const version = String(body.version);
    const task = await ackTaskFor(deps, req.params.partnerId, planId, version);
    if (!task) {
      throw new HubError(
        'ACK.NO_TASK',
        `No acknowledgment is open for ${req.params.partnerId} on CarePlan/${planId} version ${version}`,
        {
          status: 404,
          issues: [
            {
              severity: 'error',
              code: 'not-found',
              diagnostics: `No acknowledgment Task for CarePlan/${planId}/_history/${version}`,
            },
          ],
        },
      );
    }
    res.json(await recordAcknowledgment(deps, task, req.params.partnerId, body.status ?? 'completed'));
  });

  router.get('/partners/:partnerId/tasks', async (req, res) => {
    // A referrer polls the referrals it made (`role=requester`), in every status unless it names
    // some, by what changed since it last looked; an owner sees what it is asked to do.
    const role = req.query.role === 'requester' ? 'requester' : 'owner';
    const status =
      typeof req.query.status === 'string' ? req.query.status : role === 'owner' ? 'requested' : undefined;
    const since = typeof req.query._lastUpdated === 'string' ? req.query._lastUpdated : undefined;
    if (
      since !== undefined &&
      !/^(gt|ge|lt|le|eq)?\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(since)
    ) {
      throw new InvalidInputError(
        '_lastUpdated must be a FHIR date or instant, with an optional prefix (gt, ge, ...)',
      );
    }
    const bundle = await deps.fhir.searchPage('Task', {
      [role]: `Organization/${req.params.partnerId}`,
      ...(status ? { status } : {}),
      ...(since ? { _lastUpdated: since } : {}),
      _sort: 'authored-on',
      _count: 100,
    });
    sendFhir(req, res, 200, bundle);
  });

  router.get('/careplans/:id/versions/:version/deliveries', async (req, res) => {
    // Who received a plan says who is on the participant's care team: a partner sees it only for
    // a plan it may read itself.
    const partnerId = res.locals.partnerId as string | undefined;
    if (partnerId) {
      const plan = await deps.fhir.read<CarePlan>('CarePlan', req.params.id);
      const decision = await partnerMayRead(deps, partnerId, plan, `CarePlan/${req.params.id}`);
      if (!decision.allowed) {
        deps.onRefused?.({ partnerId, method: req.method, path: req.path, reason: decision.reason });
        throw new ForbiddenError('READ.FORBIDDEN', decision.reason);
      }
    }
    const notYet = req.query.notYet;
    if (notYet !== undefined && !(DELIVERY_STEPS as readonly unknown[]).includes(notYet)) {
      throw new InvalidInputError(`notYet must be one of ${DELIVERY_STEPS.join(', ')}`);
    }
    const list = notYet
      ? await deps.status.notYet(req.params.id, req.params.version, notYet as DeliveryStep)
      : await deps.status.list(req.params.id, req.params.version);
    const now = deps.now().getTime();
    res.json(list.map((s) => ({ ...s, ageSeconds: Math.round((now - Date.parse(s.since)) / 1000) })));
  });

  // HAPI's rest-hook sends the changed resource to <endpoint>/<type>/<id> (PUT) when a payload is set.
  router.all(/^\/hooks\/fhir(\/.*)?$/, json, async (req, res) => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      res.status(405).end();
      return;
    }
    if (!secretMatches(req.get(HOOK_SECRET_HEADER), deps.hookSecret)) {
      throw new HubError('HOOK.UNAUTHENTICATED', "Not a notification of the hub's subscriptions", {
        status: 401,
        issues: [
          { severity: 'error', code: 'login', diagnostics: `${HOOK_SECRET_HEADER} is missing or wrong` },
        ],
      });
    }
    const resource = req.body as Resource | undefined;
    if (resource?.resourceType === 'CarePlan' && resource.id && resource.meta?.versionId) {
      const change = {
        carePlanId: resource.id,
        version: resource.meta.versionId,
        detectedBy: 'subscription',
      } as const;
      if (await deps.wroteVersion?.(change.carePlanId, change.version)) {
        // The hub wrote this version: its own job (the same id) is queued or about to be.
        await deps.enqueuePlanChange(change);
      } else if (await deps.planBeingWritten?.((resource as CarePlan).identifier ?? [])) {
        // The server notifies at commit, often before the hub's own write of the plan has read
        // the answer: that write knows who made the change (and is not sent it back), so the job
        // waits for it to take over (and reads the version itself if it never does).
        await deps.enqueuePlanChange(change, { delayMs: WAIT_FOR_WRITER_MS });
      } else if (await heldOnServer(deps.fhir, change.carePlanId, change.version)) {
        // Only a version the server holds takes a job id: a notification is a hint, never the source.
        await deps.enqueuePlanChange(change);
      }
    } else if (
      resource?.resourceType === 'Task' &&
      isAckTask(resource as Task) &&
      resource.id &&
      // The hub's own writes of the Task (opening it, moving its due time) report no step: the
      // Task is read only when the notification says a partner took one.
      stepOfStatus(resource as Task)
    ) {
      await recordTaskStep(deps, resource.id);
    }
    res
      .status(200)
      .type('application/fhir+json')
      .json(outcome('information', 'informational', 'received'));
  });

  router.get('/admin/dead-letters', async (req, res) => {
    const queues =
      typeof req.query.queue === 'string'
        ? deps.queues.filter((q) => q.name === req.query.queue)
        : deps.queues;
    res.json(await listDeadLetters(queues));
  });

  router.get('/admin/dead-letters/:queue/:jobId', async (req, res) => {
    const queue = deps.queues.find((q) => q.name === req.params.queue);
    const letter = queue ? await getDeadLetter(queue, req.params.jobId) : undefined;
    if (!letter) {
      res
        .status(404)
        .type('application/fhir+json')
        .json(outcome('error', 'not-found', `No dead letter ${req.params.queue}/${req.params.jobId}`));
      return;
    }
    res.json(letter);
  });

  router.post('/admin/dead-letters/:queue/:jobId/replay', async (req, res) => {
    const queue = deps.queues.find((q) => q.name === req.params.queue);
    if (!queue || !(await replayDeadLetter(queue, req.params.jobId))) {
      res
        .status(404)
        .type('application/fhir+json')
        .json(outcome('error', 'not-found', `No dead letter ${req.params.queue}/${req.params.jobId}`));
      return;
    }
    res
      .status(202)
      .type('application/fhir+json')
      .json(outcome('information', 'informational', `Replaying ${req.params.queue}/${req.params.jobId}`));
  });

  return router;
}
