import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubConfig } from '../config/load-config.js';
import { HubError } from '../errors/hub-error.js';
import { FhirGateway } from '../fhir/fhir-gateway.js';
import { loadProfiles } from '../fhir/load-profiles.js';
import { createApp } from '../http/create-app.js';
import type { Logger } from '../logging/logger.js';
import { checkRedis, createRedisConnection, pingRedis } from '../queues/connection.js';
import { ensureFhirServer } from './ensure-fhir-server.js';
import { stopLocalFhirServer } from './local-fhir-server.js';

/** A started hub; `close()` undoes everything `startHub` did, in reverse order. */
export interface RunningHub {
  readonly url: string;
  readonly fhir: FhirGateway;
  close(): Promise<void>;
}

/**
 * The composition root's work: check Redis (fast) before the FHIR server (may need starting),
 * load the profiles, then serve HTTP. Throws a {@link HubError} naming the failing dependency.
 */
export async function startHub(config: HubConfig, logger: Logger): Promise<RunningHub> {
  await checkRedis(config.redis.url);
  const fhirOrigin = await ensureFhirServer(config, logger);
  const fhir = new FhirGateway({
    baseUrl: config.fhir.baseUrl,
    timeoutMs: config.fhir.timeoutMs,
    retry: { retries: config.fhir.retries },
    logger,
  });
  const loaded = await loadProfiles(fhir, config.profilesDir);
  logger.info({ loaded, fhirBaseUrl: config.fhir.baseUrl, fhirOrigin }, 'profiles loaded');

  const redis = createRedisConnection(config.redis.url, 'producer');
  redis.on('error', (err) => logger.warn({ error: err.message }, 'redis connection error'));
  await redis.connect();

  // Readiness must answer quickly: no retries, short timeout.
  const fhirProbe = new FhirGateway({ baseUrl: config.fhir.baseUrl, timeoutMs: 3000, retry: { retries: 0 } });
  const app = createApp({
    logger,
    checks: {
      fhir: async () => {
        await fhirProbe.capabilities();
      },
      redis: () => pingRedis(redis),
    },
  });
  const server = await listen(app, config.http.host, config.http.port);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.http.host}:${port}`;
  logger.info({ url, fhirBaseUrl: config.fhir.baseUrl }, 'hub started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down: no new requests');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await stopped;
      redis.disconnect();
      if (fhirOrigin === 'started') {
        logger.info('stopping the local HAPI server the hub started');
        await stopLocalFhirServer(config.fhir.localPort);
      }
      logger.info('shutdown complete');
    })());
  return { url, fhir, close };
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
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
