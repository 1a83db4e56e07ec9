import express, { type Express } from 'express';
import type { Logger } from '../logging/logger.js';
import { demoInboxRoutes } from '../demo/demo-inbox.routes.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { requestLog } from './middleware/request-log.js';
import { healthRoutes, type DependencyCheck } from './routes/health.routes.js';
import { fhirMessagingRoutes, type FhirMessagingDeps } from './routes/fhir-messaging.routes.js';
import { ingestRoutes, type IngestRouteDeps } from './routes/ingest.routes.js';
import { routingRoutes, type RoutingRouteDeps } from './routes/routing.routes.js';

/** What the HTTP layer needs; built in the composition root and passed in (no singletons). */
export interface AppDeps {
  readonly logger: Logger;
  readonly checks: Record<string, DependencyCheck>;
  readonly ingest?: IngestRouteDeps;
  readonly messaging?: FhirMessagingDeps;
  readonly routing?: RoutingRouteDeps;
  /** Mount the demo partners' stand-in inbox. */
  readonly demoInbox?: boolean;
}

/** Builds the Express app without listening, so tests drive it with supertest. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(deps.logger));
  app.use(healthRoutes(deps.checks));
  if (deps.ingest) {
    app.use(ingestRoutes(deps.ingest));
  }
  if (deps.messaging) {
    app.use(fhirMessagingRoutes(deps.messaging));
  }
  if (deps.routing) {
    app.use(routingRoutes(deps.routing));
  }
  if (deps.demoInbox) {
    app.use(demoInboxRoutes());
  }
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
