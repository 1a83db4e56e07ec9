import { execFileSync } from 'node:child_process';
import { loadProfiles } from '../../src/fhir/load-profiles.js';
import { checkRedis } from '../../src/queues/connection.js';
import { startLocalFhirServer } from '../../src/startup/local-fhir-server.js';
import { fhirBaseUrl, LOCAL_FHIR_PORT, redisUrl, REPO_ROOT, testGateway } from './test-env.js';

/**
 * Integration tests run against the real HAPI FHIR server and the real Redis. Uses the server at
 * FHIR_BASE_URL when given; otherwise the local one, started here (and stopped by the teardown)
 * when nothing answers. Loads the hub's profiles, and builds `dist/` for tests that run the hub
 * as a process, the way `npm start` does.
 */
export default async function globalSetup(): Promise<void> {
  await checkRedis(redisUrl());

  const explicit = process.env.FHIR_BASE_URL !== undefined;
  const baseUrl = fhirBaseUrl();
  const gateway = testGateway(baseUrl, 0);
  const running = await gateway.capabilities().then(
    () => true,
    () => false,
  );
  if (!running) {
    if (explicit) {
      throw new Error(`No FHIR server answers at FHIR_BASE_URL=${baseUrl}`);
    }
    process.stderr.write(
      `\nStarting the local HAPI FHIR server on port ${LOCAL_FHIR_PORT} for the tests...\n`,
    );
    await startLocalFhirServer(LOCAL_FHIR_PORT);
    process.env.HUB_TEST_STARTED_FHIR = '1';
  }
  process.env.FHIR_BASE_URL = baseUrl;
  await loadProfiles(testGateway(baseUrl), `${REPO_ROOT}/profiles`);

  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
}
