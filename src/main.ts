import { ConfigError } from './errors/hub-error.js';
import { loadConfig, type HubConfig } from './config/load-config.js';
import { createLogger } from './logging/logger.js';
import { startHub } from './startup/start-hub.js';
import { startTracing } from './tracing/tracing.js';

/** Composition root: config, then the hub, then signal handling. The only place that exits. */
async function main(): Promise<void> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`care-hub: cannot start. ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Before any queue or worker exists: they take BullMQ's telemetry when they are made.
  const tracing = startTracing(config.tracing);
  if (tracing) {
    logger.info({ exporter: config.tracing.exporter }, 'tracing on');
  }
  // Handlers first: a signal during start-up waits for start-up to finish, then shuts down cleanly.
  const starting = startHub(config, logger);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'signal received');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    starting
      .then((hub) => hub.close())
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  try {
    await starting;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal({ code: (err as { code?: string }).code }, `cannot start: ${message}`);
    process.stderr.write(`care-hub: cannot start. ${message}\n`);
    process.exit(1);
  }
}

void main();
