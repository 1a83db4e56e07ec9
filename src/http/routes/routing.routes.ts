import express, { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Resource, Task } from 'fhir/r4.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';
import { outcome } from '../../errors/to-operation-outcome.js';
import type { FhirGateway } from '../../fhir/fhir-gateway.js';
import { getDeadLetter, listDeadLetters, replayDeadLetter } from '../../queues/dead-letters.js';
import type { PlanChangeJobData } from '../../queues/plan-changes.queue.js';
import { acknowledge, findAckTask, isAckTask } from '../../routing/acknowledge.js';

export interface RoutingRouteDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly queues: readonly Queue[];
  readonly now: () => Date;
  enqueuePlanChange(data: PlanChangeJobData): Promise<void>;
}

/**
 * - `POST /partners/:partnerId/acknowledgments` `{ "carePlan": "CarePlan/1", "version": "3" }`: a
 *   partner acknowledges a plan version (the Task owner only).
 * - `PUT|POST /hooks/fhir/...`: the FHIR server's rest-hook Subscriptions (CarePlan versions, and
 *   acknowledgment Tasks completed directly on the server).
 * - `/admin/dead-letters`: list, inspect and replay failed jobs of every queue.
 */
export function routingRoutes(deps: RoutingRouteDeps): Router {
  const router = Router();
  const json = express.json({ type: ['application/json', 'application/fhir+json'], limit: '1mb' });

  router.post('/partners/:partnerId/acknowledgments', json, async (req, res) => {
    const body = req.body as { carePlan?: unknown; version?: unknown } | undefined;
    const asText = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
    const planId = /^CarePlan\/([A-Za-z0-9.-]+)$/.exec(asText(body?.carePlan))?.[1];
    const version = /^[0-9]+$/.test(asText(body?.version)) ? asText(body?.version) : undefined;
    if (!planId || !version) {
      throw new InvalidInputError('Send { "carePlan": "CarePlan/<id>", "version": "<n>" }', [
        ...(planId
          ? []
          : [
              {
                severity: 'error' as const,
                code: 'required' as const,
                diagnostics: 'carePlan must be CarePlan/<id>',
                expression: ['carePlan'],
              },
            ]),
        ...(version
          ? []
          : [
              {
                severity: 'error' as const,
                code: 'required' as const,
                diagnostics: 'version must be a version number',
                expression: ['version'],
              },
            ]),
      ]);
    }
    const task = await findAckTask(deps.fhir, deps.identifierBase, req.params.partnerId, planId, version);
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
    res.json(await acknowledge(deps.fhir, deps.identifierBase, task, req.params.partnerId, deps.now()));
  });

  // HAPI's rest-hook sends the changed resource to <endpoint>/<type>/<id> (PUT) when a payload is set.
  router.all(/^\/hooks\/fhir(\/.*)?$/, json, async (req, res) => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      res.status(405).end();
      return;
    }
    const resource = req.body as Resource | undefined;
    if (resource?.resourceType === 'CarePlan' && resource.id && resource.meta?.versionId) {
      await deps.enqueuePlanChange({
        carePlanId: resource.id,
        version: resource.meta.versionId,
        detectedBy: 'subscription',
      });
    } else if (
      resource?.resourceType === 'Task' &&
      isAckTask(resource as Task) &&
      (resource as Task).status === 'completed'
    ) {
      const task = await deps.fhir.read<Task>('Task', resource.id!);
      const owner = /^Organization\/(.+)$/.exec(task.owner?.reference ?? '')?.[1];
      if (owner) {
        await acknowledge(deps.fhir, deps.identifierBase, task, owner, deps.now());
      }
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
