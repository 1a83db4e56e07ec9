import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { loadConfig, type HubConfig } from '../../src/config/load-config.js';
import { FhirGateway } from '../../src/fhir/fhir-gateway.js';
import { createRedisConnection, type RedisClient, type RedisTarget } from '../../src/queues/connection.js';

/** Repository root, for tests that read repository files or run its scripts. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Port of the local HAPI server the tests use when FHIR_BASE_URL is not set. */
export const LOCAL_FHIR_PORT = Number(process.env.FHIR_PORT ?? 8080);

/** FHIR base URL for tests: the global setup sets FHIR_BASE_URL to the server it found or started. */
export function fhirBaseUrl(): string {
  return process.env.FHIR_BASE_URL ?? `http://127.0.0.1:${LOCAL_FHIR_PORT}/fhir`;
}

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** The Redis of the tests: the machine's, or with REDIS_CLUSTER=true a cluster (scripts/redis-cluster). */
export function redisTarget(): RedisTarget {
  return { url: redisUrl(), cluster: process.env.REDIS_CLUSTER === 'true' };
}

/** A connection to the tests' Redis (one server, or the cluster), as the hub's workers have. */
export function testRedis(): RedisClient {
  return createRedisConnection(redisTarget(), 'worker');
}

/**
 * Queue prefix of this test file (Jest loads this module once per file): jobs left in Redis by
 * earlier runs or other files never reach this file's workers.
 */
const QUEUE_PREFIX = `{test-${randomUUID().slice(0, 8)}}`;

/**
 * Hub configuration for tests: real FHIR and Redis, ephemeral ports, silent logs, own queues.
 * Tokens are off unless a test turns them on (`AUTH_REQUIRED: 'true'`): the security tests cover
 * them, the others test what happens behind them.
 */
export function testConfig(overrides: Record<string, string> = {}): HubConfig {
  return loadConfig(
    {
      FHIR_BASE_URL: fhirBaseUrl(),
      REDIS_URL: redisUrl(),
      REDIS_CLUSTER: String(redisTarget().cluster),
      PORT: '0',
      MLLP_PORT: '0',
      LOG_LEVEL: 'silent',
      QUEUE_PREFIX,
      AUTH_REQUIRED: 'false',
      // Test hubs go away for good: the FHIR server must not keep notifying them.
      REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN: 'true',
      ...overrides,
    },
    REPO_ROOT,
  );
}

export function testGateway(baseUrl: string = fhirBaseUrl(), retries = 2): FhirGateway {
  return new FhirGateway({
    baseUrl,
    timeoutMs: 20000,
    retry: { retries, baseDelayMs: 10, maxDelayMs: 50 },
    batchReads: true,
  });
}

/** A value unique to this test run, for identifiers that must not collide with earlier runs. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** A TCP port on 127.0.0.1 that nothing listens on (found by binding and releasing it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
