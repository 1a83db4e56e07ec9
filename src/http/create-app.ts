import type { AnyQueue } from '../queues/queue-factory.js';
import express, { type Express, type RequestHandler } from 'express';
import { securityHeaders } from './middleware/hardening.js';
import { requireToken, type PartnerAuthDeps } from './middleware/partner-auth.js';
import { authRoutes, type AuthRouteDeps } from './routes/auth.routes.js';
import { requireStaff, type StaffAuthDeps } from './middleware/staff-auth.js';
import { staffRoutes, type StaffRouteDeps } from './routes/staff.routes.js';
import { partnerReadRoutes, type PartnerReadDeps } from './routes/partner-read.routes.js';
import type { ScopeAction } from '../security/scopes.js';
import type { Logger } from '../logging/logger.js';
import { demoInboxRoutes } from '../demo/demo-inbox.routes.js';
import { adminAuth } from './middleware/admin-auth.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { requestLog } from './middleware/request-log.js';
import { traceRequests } from './middleware/request-trace.js';
import { dashboardRoutes } from './routes/dashboard.routes.js';
import { healthRoutes, type DependencyCheck } from './routes/health.routes.js';
import { fhirMessagingRoutes, type FhirMessagingDeps } from './routes/fhir-messaging.routes.js';
import { fhirBatchRoutes } from './routes/fhir-batch.routes.js';
import { fhirMetadataRoutes } from './routes/fhir-metadata.routes.js';
import { ingestRoutes, type IngestRouteDeps } from './routes/ingest.routes.js';
import { messageRoutes, type MessageRouteDeps } from './routes/messages.routes.js';
import { identityRoutes, type IdentityRouteDeps } from './routes/identities.routes.js';
import { routingRoutes, type RoutingRouteDeps } from './routes/routing.routes.js';
import { coordinationRoutes, type CoordinationRouteDeps } from './routes/coordination.routes.js';
import { uiRoutes, type UiDeps } from './routes/ui.routes.js';
import { openApiDocument } from './openapi.js';
import { subscriptionRoutes, type SubscriptionRouteDeps } from './routes/subscriptions.routes.js';

/** What the HTTP layer needs; built in the composition root and passed in (no singletons). */
export interface AppDeps {
  readonly logger: Logger;
  readonly checks: Record<string, DependencyCheck>;
  readonly ingest?: IngestRouteDeps;
  /** The message log and each message across its legs (`/admin/messages`). */
  readonly messages?: MessageRouteDeps;
  /** The identity review for scripts (`/admin/identities`). */
  readonly identities?: IdentityRouteDeps;
  readonly messaging?: FhirMessagingDeps;
  readonly routing?: RoutingRouteDeps;
  readonly coordination?: CoordinationRouteDeps;
  /** Partners' topic-based subscriptions under `/fhir/Subscription`. */
  readonly subscriptions?: SubscriptionRouteDeps;
  /** The staff pages under `/ui`. */
  readonly ui?: UiDeps;
  /** Mount the demo partners' stand-in inbox. */
  readonly demoInbox?: boolean;
  /** Serve the queue dashboard at `/admin/queues` over these queues. */
  readonly dashboard?: readonly AnyQueue[];
  /** The Prometheus text served at `/metrics` (behind the admin guard). */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** `TRUST_PROXY`: whose `X-Forwarded-*` headers count (Express `trust proxy`); unset: nobody's. */
  readonly trustProxy?: string | undefined;
  /** `ADMIN_TOKEN`: required for `/admin/*`; unset, `/admin/*` is served to loopback clients only. */
  readonly adminToken?: string | undefined;
  /** Request limits on the partner and staff routes, by address and then by who signed in (absent: none). */
  readonly rateLimit?: { readonly beforeAuth: RequestHandler; readonly afterAuth: RequestHandler };
  /** SMART Backend Services: the token endpoint, and tokens required on partner routes. Absent: open. */
  readonly auth?: {
    readonly routes: AuthRouteDeps;
    readonly partners: PartnerAuthDeps;
    readonly reads: PartnerReadDeps;
    readonly staff: StaffAuthDeps & StaffRouteDeps;
  };
}

/** Routes partners and staff call; the FHIR server's callbacks (`/hooks/fhir`) and health are not limited. */
const LIMITED_PATHS = [
  '/ingest/:partnerId',
  '/partners/:partnerId',
  '/fhir',
  '/careplans',
  '/participants',
  '/tasks',
  '/roster',
  '/huddles',
  '/consents',
  '/staff',
  '/audit',
  '/ui/login',
];

/**
 * The token endpoint, and what each partner route needs: a token of the partner in the path with
 * the scope for what the route does. Staff routes need a staff session with the right role:
 * coordinators and supervisors for coordination, auditors for the audit trail.
 */
function protect(
  app: Express,
  auth: NonNullable<AppDeps['auth']>,
  limit: RequestHandler = (_req, _res, next) => next(),
): void {
  const need = (resourceType: string, action: ScopeAction): RequestHandler[] => [
    requireToken(auth.partners, { resourceType, action }),
    limit,
  ];
  app.use(authRoutes(auth.routes));
  app.post('/ingest/:partnerId/:format', need('*', 'c'));
  app.get('/ingest/:partnerId/batches/:id', need('*', 'c'));
  app.post(/^\/fhir\/\$process-message$/, need('*', 'c'));
  app.post(/^\/fhir\/?$/, need('*', 'c'));
  app.get(/^\/fhir\/\$process-message\/responses\//, need('*', 'c'));
  app.post('/partners/:partnerId/acknowledgments', need('Task', 'u'));
  app.get('/partners/:partnerId/tasks', need('Task', 's'));
  app.get('/careplans/:id/versions/:version/deliveries', need('CarePlan', 'r'));
  app.post('/tasks/:id/report', need('Task', 'u'));
  app.post('/partners/:partnerId/tasks/:id/status', need('Task', 'u'));
  app.post(/^\/fhir\/Subscription\/?$/, need('Subscription', 'c'));
  app.get(/^\/fhir\/Subscription\/[^/]+\/\$(status|events)$/, need('Subscription', 'r'));
  app.delete(/^\/fhir\/Subscription\/[^/]+$/, need('Subscription', 'd'));
  // Reads through the hub (partnerReadRoutes, mounted after the hub's own FHIR routes).
  app.get(
    '/fhir/:type/:id',
    requireToken(auth.partners, (req) => ({ resourceType: String(req.params.type), action: 'r' })),
    limit,
  );
  app.use(
    ['/participants', '/roster', '/huddles', '/consents'],
    requireStaff(auth.staff, ['coordinator', 'supervisor']),
    limit,
  );
  app.use('/audit', requireStaff(auth.staff, ['auditor']), limit);
  app.use(staffRoutes(auth.staff));
}

/** Builds the Express app without listening, so tests drive it with supertest. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  if (deps.trustProxy) {
    // A hop count is a number to Express; anything else (loopback, addresses) is passed as is.
    app.set('trust proxy', /^\d+$/.test(deps.trustProxy) ? Number(deps.trustProxy) : deps.trustProxy);
  }
  app.use(securityHeaders());
  app.use(traceRequests());
  app.use(requestLog(deps.logger));
  app.use(healthRoutes(deps.checks));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(deps.messaging?.publicUrl ?? '/'));
  });
  if (deps.rateLimit) {
    app.use(LIMITED_PATHS, deps.rateLimit.beforeAuth);
  }
  if (deps.auth) {
    protect(app, deps.auth, deps.rateLimit?.afterAuth);
  } else if (deps.rateLimit) {
    app.use(LIMITED_PATHS, deps.rateLimit.afterAuth);
  }
  // Before every admin route (rejected records, dead letters, dashboard).
  app.use(
    '/admin',
    deps.auth ? requireStaff(deps.auth.staff, ['engineer']) : adminAuth({ token: deps.adminToken }),
  );
  if (deps.dashboard) {
    app.use(dashboardRoutes(deps.dashboard));
  }
  if (deps.metrics) {
    const metrics = deps.metrics;
    // For a scraper, not a person: the admin token (or this machine), even when staff sign in.
    app.get('/metrics', adminAuth({ token: deps.adminToken }), async (_req, res) => {
      const { contentType, body } = await metrics();
      res.type(contentType).send(body);
    });
  }
  if (deps.ingest) {
    app.use(ingestRoutes(deps.ingest));
  }
  if (deps.messages) {
    app.use(messageRoutes(deps.messages));
  }
  if (deps.identities) {
    app.use(identityRoutes(deps.identities));
  }
  if (deps.subscriptions) {
    app.use(subscriptionRoutes(deps.subscriptions));
  }
  if (deps.messaging) {
    app.use(fhirMetadataRoutes({ publicUrl: deps.messaging.publicUrl, smart: deps.auth !== undefined }));
    app.use(fhirMessagingRoutes(deps.messaging));
    app.use(fhirBatchRoutes(deps.messaging));
  }
  if (deps.auth) {
    // After the hub's own FHIR routes (subscriptions, operations): what is left is a read.
    app.use(partnerReadRoutes(deps.auth.reads));
  }
  if (deps.routing) {
    app.use(routingRoutes(deps.routing));
  }
  if (deps.coordination) {
    app.use(coordinationRoutes(deps.coordination));
  }
  if (deps.ui) {
    app.use(uiRoutes(deps.ui));
  }
  if (deps.demoInbox) {
    app.use(demoInboxRoutes());
  }
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
