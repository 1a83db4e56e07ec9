import { codeTableProblems } from '../ingest/code-tables.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubConfig } from '../config/load-config.js';
import { loadPartners, type PartnerRegistry } from '../config/partners.js';
import { HubError } from '../errors/hub-error.js';
import { FhirGateway } from '../fhir/fhir-gateway.js';
import { loadProfiles } from '../fhir/load-profiles.js';
import { ensurePartnerOrganizations } from '../fhir/partner-organizations.js';
import { createApp, type AppDeps } from '../http/create-app.js';
import { drainable } from '../http/drain.js';
import type { Worker } from 'bullmq';
import { requestLimits } from '../http/middleware/hardening.js';
import type { RefusedAccess } from '../security/audit.js';
import { RefusalAudit } from '../security/refusal-audit.js';
import { sharedHookSecret } from '../security/hook-secret.js';
import { StaffLogin } from '../security/staff-login.js';
import { assertionVerifier } from '../security/client-assertion.js';
import { TokenStore } from '../security/token-store.js';
import { loadStaff, type StaffAccount } from '../security/staff.js';
import { defaultFormats } from '../ingest/format-registry.js';
import { codesOf, loadCoordinationConfig } from '../coordination/coordination-config.js';
import { ConfigError } from '../errors/hub-error.js';
import type { CoordinationDeps } from '../coordination/coordination-deps.js';
import { ensureSubscriptions, removeSubscriptions } from '../fhir/subscriptions.js';
import { IngestService } from '../ingest/ingest-service.js';
import { mllpAdmission, mllpIngestHandler } from '../mllp/mllp-ingest.js';
import { redisIdentityLock } from '../ingest/identity-lock.js';
import { startMllpServer } from '../mllp/mllp-server.js';
import { MessageLog, SavedSearches } from '../ingest/message-log.js';
import { deliveryAttempts } from '../routing/deliveries.queue.js';
import { ingestCounters, observers, Throughput } from '../metrics/throughput.js';
import { RejectedStore } from '../ingest/rejected-store.js';
import { TrafficRecorder } from '../ingest/traffic-recorder.js';
import type { Logger } from '../logging/logger.js';
import {
  checkRedis,
  createRedisConnection,
  pingRedis,
  redisPersistence,
  workerConnection,
} from '../queues/connection.js';
import { enqueueAppliedRecord } from '../coordination/coordination.queue.js';
import { createIngestQueueEvents } from '../ingest/ingest.queue.js';
import type { AppliedRecord } from '../coordination/apply-rules.js';
import {
  allQueues,
  closeQueues,
  coordinationEnqueuers,
  createQueues,
  enqueuePlanChange,
  routingEnqueuers,
  startWorkers,
} from './queues.js';
import type { RoutingDeps } from '../routing/routing-deps.js';
import type { HubQueues } from './queues.js';
import { catchUpAcknowledgments, catchUpPlanChanges } from '../routing/catch-up.js';
import { sweepAckDeadlines } from '../routing/acknowledgments.queue.js';
import { CircuitBreaker } from '../outbound/circuit-breaker.js';
import { DeliveryStatusStore } from '../routing/delivery-status.js';
import { WithheldDeliveries } from '../routing/withheld-deliveries.js';
import { PlanContentCache } from '../routing/plan-content.js';
import { DisclosureBacklog } from '../security/disclosures.queue.js';
import type { DeliveryRequest } from '../routing/deliver-plan-change.js';
import { ensureFhirServer } from './ensure-fhir-server.js';
import { stopLocalFhirServer } from './local-fhir-server.js';
import { BatchStore } from '../ingest/batch-store.js';
import { createBatchesWorker, enqueueBatch } from '../ingest/batches.queue.js';
import {
  bulkReplayStatus,
  createBulkReplayWorker,
  enqueueBulkReplay,
  type BulkReplayRequest,
} from '../ingest/bulk-replay.queue.js';
import { SubscriptionStore } from '../subscriptions/subscription-store.js';
import { RosterIndex } from '../coordination/roster-index.js';
import type { RosterFilter } from '../coordination/roster-service.js';
import type { RosterEntry } from '../coordination/roster.rules.js';
import { createMaintenanceWorker, MAINTENANCE_QUEUE, scheduleTasks } from '../queues/maintenance.queue.js';
import { backlogOf } from '../queues/backlog.js';
import { checkAlerts, listAlerts, type AlertMonitorDeps } from '../alerts/alert-monitor.js';
import { publishVersion } from '../subscriptions/publish.js';
import { publishTaskVersions, TASK_FEED_INTERVAL_MS } from '../subscriptions/task-feed.js';
import {
  createSubscriptionsWorker,
  notifyEvents,
  startNotifying,
  stopNotifying,
} from '../subscriptions/subscriptions.queue.js';

/** How often the CarePlan and Task history is scanned for what the rest-hooks did not report. */
const CATCH_UP_INTERVAL_MS = 60_000;
/** How often every open acknowledgment's deadline job is made sure of. */
const ACK_SWEEP_INTERVAL_MS = 10 * 60_000;
/** How often the roster index catches up between reads, and reads everything again. */
const ROSTER_CATCH_UP_MS = 15_000;
const ROSTER_REBUILD_MS = 60 * 60_000;

/** A started hub; `close()` undoes everything `startHub` did, in reverse order. */
export interface RunningHub {
  readonly url: string;
  /** The MLLP listener's port; 0 on a worker, which has none. */
  readonly mllpPort: number;
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly queues: HubQueues;
  close(): Promise<void>;
}

/**
 * The composition root's work: check Redis (fast) before the FHIR server (may need starting),
 * read the partners, load the profiles, start the workers, then serve HTTP. Throws a
 * {@link HubError} naming the failing dependency or file.
 */
export async function startHub(config: HubConfig, logger: Logger): Promise<RunningHub> {
  const partners = await loadPartners(config.partnerConfigDir, config.secrets);
  const staff = config.http.staffFile
    ? await loadStaff(config.http.staffFile)
    : new Map<string, StaffAccount>();
  const coordination = await loadCoordinationConfig(
    config.coordinationConfigDir,
    config.profilesDir,
    partners,
  );
  const tableProblems = codeTableProblems(partners.all(), await codesOf(config.profilesDir, 'hub-risk-flag'));
  if (tableProblems.length > 0) {
    throw new ConfigError(tableProblems.map((p) => `PARTNER_CONFIG_DIR ${p}`));
  }
  await checkRedis(config.redis);
  const fhirOrigin = await ensureFhirServer(config, logger);
  const fhir = new FhirGateway({
    baseUrl: config.fhir.baseUrl,
    timeoutMs: config.fhir.timeoutMs,
    retry: { retries: config.fhir.retries },
    batchReads: config.fhir.batchReads,
    logger,
  });
  const loaded = await loadProfiles(fhir, config.profilesDir);
  await ensurePartnerOrganizations(fhir, partners.all(), config.identifierBase);
  logger.info({ profiles: loaded, partners: partners.all().length, fhirOrigin }, 'FHIR server prepared');

  const redis = createRedisConnection(config.redis, 'producer');
  redis.on('error', (err: Error) => logger.warn({ error: err.message }, 'redis connection error'));
  await redis.connect();
  const workerRedis = createRedisConnection(config.redis, 'worker');
  workerRedis.on('error', (err: Error) =>
    logger.warn({ error: err.message }, 'redis worker connection error'),
  );

  const prefix = config.redis.queuePrefix;
  const now = (): Date => new Date();
  const identifierBase = config.identifierBase;
  const refusals = new RefusalAudit(
    (event) => fhir.create(event),
    now,
    (err: unknown) => logger.warn({ error: (err as Error).message }, 'refused access not audited'),
  );
  const formats = defaultFormats();
  // Aborted when the hub begins to stop: requests waiting for their records answer at once.
  const stopping = new AbortController();
  const rejected = new RejectedStore(redis, prefix, config.ingest.rejectedRetentionDays);
  const messages = new MessageLog(redis, prefix, config.ingest.messageLogDays);
  const queues = createQueues(redis, prefix, partners, config.ingest.attempts);
  const planChange = (
    data: Parameters<typeof enqueuePlanChange>[1],
    opts?: Parameters<typeof enqueuePlanChange>[2],
  ): Promise<void> => enqueuePlanChange(queues.planChanges, data, opts);
  const throughput = new Throughput(redis, prefix);
  const status = new DeliveryStatusStore(redis, prefix, throughput);
  const withheld = new WithheldDeliveries(redis, prefix);
  const subscriptionStore = new SubscriptionStore(redis, prefix);
  const circuit = new CircuitBreaker(redis, prefix);
  const content = new PlanContentCache(redis, prefix);
  const disclosures = new DisclosureBacklog(redis, prefix);
  const publishing = {
    store: subscriptionStore,
    fhir,
    identifierBase,
    now,
    notify: (id: string, n: number) => notifyEvents(queues.subscriptions, id, n),
  };
  const routingDeps: RoutingDeps = {
    status,
    circuit,
    withheld,
    content,
    fhir,
    partners,
    identifierBase,
    coordination,
    logger,
    redis,
    prefix,
    now,
    disclosures,
    ...routingEnqueuers(queues, partners, now, disclosures),
    publishPlanChange: (plan, version, patient) => publishVersion(publishing, plan, version, patient),
  };
  const ingestDeps = {
    fhir,
    partners,
    formats,
    rejected,
    messages,
    identifierBase,
    logger,
    identityLock: redisIdentityLock(redis, prefix),
    guard: { fhir, partners, config: coordination, now },
    afterWrite: {
      fhir,
      status,
      identifierBase,
      now,
      content,
      enqueuePlanChange: planChange,
      enqueueCoordination: (key: string, record: AppliedRecord) =>
        enqueueAppliedRecord(queues.coordination, key, record),
    },
  };
  const coordinationDeps: CoordinationDeps = {
    fhir,
    partners,
    identifierBase,
    config: coordination,
    logger,
    now,
    ...coordinationEnqueuers(queues, now),
  };
  const roster = new RosterIndex({ fhir, identifierBase, config: coordination, now, redis, prefix, logger });
  const rosterOf = (filter: RosterFilter): Promise<readonly RosterEntry[]> => roster.entries(filter);
  const metrics = new HubMetrics(allQueues(queues));
  const onWorkers = workerConnection(
    workerRedis,
    prefix,
    config.redis.jobLockMs,
    observers(metrics, throughput),
  );
  // A front end runs no job; a worker and an all-in-one process run every kind (README, "Roles").
  const runsJobs = config.role !== 'front';
  const servesDoors = config.role !== 'worker';
  const workers = runsJobs
    ? startWorkers(onWorkers, ingestDeps, routingDeps, coordinationDeps, config.ingest.concurrency)
    : [];
  const work = (start: () => Worker): void => {
    if (runsJobs) {
      workers.push(start());
    }
  };
  const queueEvents = createIngestQueueEvents(workerRedis.duplicate(), prefix);
  // It reconnects by itself (a Redis restart, a cluster master away); unheard, BullMQ prints the error.
  queueEvents.on('error', (err: Error) =>
    logger.warn({ error: err.message }, 'ingest events connection error'),
  );
  const ingest = new IngestService({
    partners,
    formats,
    queue: queues.ingest,
    queueEvents,
    rejected,
    logger,
    identifierBase,
    onBoundaryRefused: async (partnerId, format, location, issues) =>
      refusals.record({
        partnerId,
        method: 'INGEST',
        path: format,
        reason: `${location}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      }),
    traffic: new TrafficRecorder(redis, prefix),
    metrics: ingestCounters(metrics, throughput),
    messages,
    stopWaiting: stopping.signal,
  });
  const batchDeps = { ingest, batches: new BatchStore(redis, prefix), logger };
  const messageDeps = {
    messages,
    ingest,
    rejected,
    status,
    saved: new SavedSearches(redis, prefix),
    bulkReplay: (request: BulkReplayRequest) => enqueueBulkReplay(queues.bulkReplays, request),
    bulkReplayStatus: (id: string) => bulkReplayStatus(queues.bulkReplays, id),
    attempts: async (partnerId: string, carePlanId: string, version: string) => {
      const queue = queues.deliveries.get(partnerId);
      return queue ? deliveryAttempts(queue, partnerId, carePlanId, version) : undefined;
    },
  };
  const alertDeps: AlertMonitorDeps = {
    redis,
    prefix,
    settings: config.alerts.settings,
    fhir,
    identifierBase,
    now,
    logger,
    queues: () =>
      Promise.all(
        allQueues(queues)
          .filter((q) => q.name !== MAINTENANCE_QUEUE)
          .map((q) => backlogOf(q, now().getTime())),
      ),
    openCircuits: async () => {
      const at = now().getTime();
      const withOutbound = partners.all().filter((p) => p.outbound);
      const open = await Promise.all(withOutbound.map((p) => circuit.isOpen(p.id, at)));
      return withOutbound.filter((_, i) => open[i]).map((p) => p.id);
    },
    messages,
  };
  work(() => createBatchesWorker(batchDeps, onWorkers));
  work(() => createBulkReplayWorker({ messages, rejected, ingest, logger }, onWorkers));

  // Before listening: between listen and attaching the app nothing may wait, or a request that
  // arrives meanwhile would get no answer at all.
  const hookSecret = await sharedHookSecret(redis, prefix);
  const persistence = await redisPersistence(redis);
  if (persistence.startsWith('none')) {
    logger.warn({ persistence }, 'Redis keeps nothing on disk: a Redis restart loses queued records');
  }
  // Listen first: with PORT=0 the hub's own URL (for rest-hook callbacks) is known only now.
  const server = await listen(config.http.host, config.http.port);
  const { drain } = drainable(server);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.http.host}:${port}`;
  const publicUrl = config.http.publicUrl ?? `http://127.0.0.1:${port}`;
  // Notifications name the hub's FHIR base as partners reach it, known once the hub listens.
  work(() =>
    createSubscriptionsWorker(
      {
        store: subscriptionStore,
        fhir,
        fhirBase: `${publicUrl}/fhir`,
        logger,
        now,
        queue: () => queues.subscriptions,
        queueDisclosures: (jobId, disclosed) => routingDeps.queueDisclosures(jobId, disclosed),
        partners,
        circuit,
      },
      onWorkers,
    ),
  );

  const tokens = new TokenStore(redis, prefix);
  const staffLogin = new StaffLogin(staff, redis, prefix, now);
  const onRefused = (refused: RefusedAccess): void => refusals.record(refused);
  // Readiness must answer quickly: no retries, short timeout.
  const fhirProbe = new FhirGateway({ baseUrl: config.fhir.baseUrl, timeoutMs: 3000, retry: { retries: 0 } });
  let started = false;
  const appDeps: AppDeps = {
    logger,
    checks: {
      // Not ready until start-up has finished (subscriptions active, history scanned).
      startup: async () => {
        if (!started) {
          throw new Error('starting');
        }
      },
      fhir: async () => {
        await fhirProbe.capabilities();
      },
      redis: async () => {
        await pingRedis(redis);
        return { persistence };
      },
    },
    ingest: {
      ingest,
      formats,
      rejected,
      bodyLimit: `${config.ingest.maxBodyBytes}b`,
      batches: { ...batchDeps, enqueue: (id) => enqueueBatch(queues.batches, id) },
    },
    messages: messageDeps,
    identities: { fhir, rejected, ingest, now },
    messaging: {
      ingest,
      bodyLimit: `${config.ingest.maxBodyBytes}b`,
      publicUrl,
      waitMs: 30000,
    },
    routing: {
      fhir,
      status,
      identifierBase,
      queues: allQueues(queues),
      now,
      enqueuePlanChange: planChange,
      isPartner: (id) => partners.get(id) !== undefined,
      hookSecret,
      wroteVersion: (id, version) => content.hasWritten(id, version),
      planBeingWritten: (identifiers) => content.beingWritten(identifiers),
      onRefused,
    },
    coordination: {
      ...coordinationDeps,
      timeZone: coordination.calendars.timeZone,
      withheld,
      enqueueDelivery: (req: DeliveryRequest) => routingDeps.enqueueDelivery(req),
      roster: rosterOf,
    },
    ui: {
      session: {
        sessions: new TokenStore(redis, prefix, 'staff'),
        staffConfigured: staff.size > 0,
        httpsPublic: publicUrl.startsWith('https:'),
        now,
        onRefused,
      },
      login: staffLogin,
      coordination: coordinationDeps,
      roster: rosterOf,
      status,
      queues: allQueues(queues),
      circuit: routingDeps.circuit,
      rejected,
      messages: messageDeps,
      replay: (rejection, corrected, edited) => ingest.replay(rejection, corrected, edited),
      alerts: () => listAlerts(redis, prefix),
      identities: ingest,
      formats,
      throughput: (from, to) => throughput.hours(from, to),
    },
    subscriptions: {
      store: subscriptionStore,
      partners,
      fhirBase: `${publicUrl}/fhir`,
      now,
      startNotifying: (sub) => startNotifying(queues.subscriptions, sub),
      stopNotifying: (id) => stopNotifying(queues.subscriptions, id),
    },
    demoInbox: config.demoInbox,
    dashboard: allQueues(queues),
    metrics: () => metrics.expose(),
    adminToken: config.http.adminToken,
    rateLimit: requestLimits(redis, prefix, config.ingest.rateLimitPerMinute),
    trustProxy: config.http.trustProxy,
    ...(config.http.authRequired
      ? {
          auth: {
            routes: { partners, tokens, publicUrl, now, verifyAssertion: assertionVerifier(partners) },
            partners: { tokens, now, onRefused },
            reads: {
              fhir,
              identifierBase,
              now,
              onRefused,
              part2Programs: partners.part2Programs(),
            },
            staff: {
              fhir,
              login: staffLogin,
              sessions: new TokenStore(redis, prefix, 'staff'),
              now,
              adminToken: config.http.adminToken,
              onRefused,
            },
          },
        }
      : {}),
  };
  // A worker serves health, readiness and metrics only: partners and staff reach the front ends.
  const { checks, metrics: exposed, adminToken, trustProxy } = appDeps;
  const app = createApp(servesDoors ? appDeps : { logger, checks, metrics: exposed, adminToken, trustProxy });
  server.on('request', app);
  const mllp = await (servesDoors ? startMllpServer : noMllp)({
    host: config.http.host,
    port: config.ingest.mllpPort,
    maxMessageBytes: Math.min(config.ingest.maxBodyBytes, 4 * 1024 * 1024),
    handle: mllpIngestHandler({
      ingest,
      partners,
      redis,
      prefix,
      now,
      requireAllowList: config.http.authRequired,
      onRefused,
    }),
    onError: (err, peer) => logger.warn({ error: err.message, peer: peer.address }, 'MLLP error'),
    ...mllpAdmission(partners, config.http.authRequired),
    onRefusedConnection: (peer, reason) =>
      refusals.record({ method: 'MLLP', path: `connection from ${peer.address}`, reason }),
    maxConnections: config.ingest.mllpMaxConnections,
    maxConnectionsPerAddress: config.ingest.mllpMaxConnectionsPerAddress,
    idleTimeoutMs: config.ingest.mllpIdleMs,
  });
  if (!(await ensureSubscriptions(fhir, publicUrl, prefix, hookSecret))) {
    logger.warn(
      'the FHIR server has not activated the hub subscriptions yet; the history scan covers the gap',
    );
  }
  // Changes made while no hub was listening, then every minute in case a notification is lost:
  // plan versions, and acknowledgment Tasks partners moved on directly on the FHIR server.
  const catchUp = (): Promise<void> =>
    Promise.all([
      ensureSubscriptions(fhir, publicUrl, prefix, hookSecret, { waitForActivation: false }),
      catchUpPlanChanges(fhir, redis, prefix, planChange),
      catchUpAcknowledgments(routingDeps, redis, prefix),
    ]).then(
      ([, plans, acks]) =>
        plans + acks > 0
          ? logger.info({ versions: plans, acknowledgments: acks }, 'history scanned')
          : undefined,
      (err: unknown) => logger.warn({ error: (err as Error).message }, 'history scan failed'),
    );
  await catchUp();
  const sweepAcks = (): Promise<void> =>
    sweepAckDeadlines(routingDeps).then(
      (n) => logger.debug({ open: n }, 'acknowledgment deadlines reconciled'),
      (err: unknown) => logger.warn({ error: (err as Error).message }, 'acknowledgment sweep failed'),
    );
  const scanTasks = (): Promise<void> =>
    publishTaskVersions({ ...publishing, redis, prefix }).then(
      () => undefined,
      (err: unknown) => logger.warn({ error: (err as Error).message }, 'Task feed scan failed'),
    );
  const alerts = (): Promise<void> =>
    checkAlerts(alertDeps).then(
      () => undefined,
      (err: unknown) => logger.warn({ error: (err as Error).message }, 'alert check failed'),
    );
  // The roster keeps up between reads, so a read under heavy ingest has little history to catch up.
  const keepRoster = (work: () => Promise<void>) => (): Promise<void> =>
    work().catch((err: unknown) => logger.warn({ error: (err as Error).message }, 'roster update failed'));
  const periodic = {
    'history-catch-up': { everyMs: CATCH_UP_INTERVAL_MS, run: catchUp },
    'acknowledgment-sweep': { everyMs: ACK_SWEEP_INTERVAL_MS, run: sweepAcks },
    'task-feed': { everyMs: TASK_FEED_INTERVAL_MS, run: scanTasks },
    alerts: { everyMs: config.alerts.checkMs, run: alerts },
    'roster-catch-up': { everyMs: ROSTER_CATCH_UP_MS, run: keepRoster(() => roster.maintain('catch-up')) },
    'roster-rebuild': { everyMs: ROSTER_REBUILD_MS, run: keepRoster(() => roster.maintain('rebuild')) },
  };
  work(() => createMaintenanceWorker(periodic, onWorkers, logger));
  await scheduleTasks(queues.maintenance, periodic);
  started = true;
  if (!config.http.authRequired) {
    logger.warn(
      'AUTH_REQUIRED is off: partner and staff routes answer without tokens (demo and development only)',
    );
  }
  logger.info({ url, mllpPort: mllp.port, fhirBaseUrl: config.fhir.baseUrl }, 'hub started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down: no new requests');
      stopping.abort();
      // A quarter of the shutdown budget for answers being made, half for the jobs in flight.
      const [cut] = await Promise.all([drain(config.shutdownTimeoutMs / 4), mllp.close()]);
      if (cut > 0) {
        logger.warn({ requests: cut }, 'requests still unanswered at shutdown were cut');
      }
      refusals.close();
      await queueEvents.close();
      // The last quarter is for the queues and the server.
      await closeQueues(workers, queues, { graceMs: config.shutdownTimeoutMs / 2, logger });
      // After the workers: a history catch-up still running would register them again.
      if (config.http.removeSubscriptionsOnShutdown) {
        await removeSubscriptions(fhir, prefix).catch((err: unknown) => {
          logger.warn({ error: (err as Error).message }, 'subscriptions not removed');
        });
      }
      redis.disconnect();
      workerRedis.disconnect();
      if (fhirOrigin === 'started') {
        logger.info('stopping the local HAPI server the hub started');
        await stopLocalFhirServer(config.fhir.localPort);
      }
      logger.info('shutdown complete');
    })());
  return { url, mllpPort: mllp.port, fhir, partners, queues, close };
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new HubError(
          'HTTP.LISTEN_FAILED',
          `cannot listen on HOST=${host} PORT=${port}: ${err.code ?? err.message}`,
          {
            cause: err,
          },
        ),
      );
    });
  });
}

/** A worker's stand-in for the MLLP listener: it listens nowhere. */
function noMllp(): Promise<{ port: number; close(): Promise<void> }> {
  return Promise.resolve({ port: 0, close: () => Promise.resolve() });
}
