import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { AnyQueue } from '../../queues/queue-factory.js';
import { Router, type RequestHandler } from 'express';

/** Where the queue dashboard is served (under `/admin`, so behind the admin guard). */
export const DASHBOARD_PATH = '/admin/queues';

/**
 * `GET /admin/queues`: bull-board over every hub queue, for engineers: counts, jobs, payloads,
 * failure reasons and job logs (the partners' answers). Read-only: no retry, clean, pause or
 * delete from here (the board enforces it in its API too); replays go through
 * `/admin/dead-letters`, which keeps the delivery's message id.
 */
export function dashboardRoutes(queues: readonly AnyQueue[]): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Care hub queues' } },
  });
  const router = Router();
  router.use(DASHBOARD_PATH, serverAdapter.getRouter() as RequestHandler);
  return router;
}
