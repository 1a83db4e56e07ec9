// Integration tests run against the real HAPI FHIR server and the real Redis. This setup builds
// dist/ (tests also run the hub as a process, as `npm start` does) and uses the compiled modules:
// Jest loads global setup outside its module system, where TypeScript sources cannot be imported.
// It uses the server at FHIR_BASE_URL when given; otherwise the local one, started here (and
// stopped by the teardown) when nothing answers. Then it loads the hub's profiles.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chromiumPath } from './chromium.mjs';

const root = path.resolve(import.meta.dirname, '../..');

export default async function globalSetup() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const { FhirGateway } = await import(path.join(root, 'dist/fhir/fhir-gateway.js'));
  const { loadProfiles } = await import(path.join(root, 'dist/fhir/load-profiles.js'));
  const { startLocalFhirServer } = await import(path.join(root, 'dist/startup/local-fhir-server.js'));
  const { missingPrerequisites } = await import(path.join(root, 'dist/startup/prerequisites.js'));

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const port = Number(process.env.FHIR_PORT ?? 8080);
  const explicit = process.env.FHIR_BASE_URL !== undefined;
  const baseUrl = process.env.FHIR_BASE_URL ?? `http://127.0.0.1:${port}/fhir`;
  const probe = new FhirGateway({ baseUrl, timeoutMs: 5000, retry: { retries: 0 } });
  const running = await probe.capabilities().then(
    () => true,
    () => false,
  );
  // The browser tests read the path from here, so the npm package's binary is unpacked once.
  process.env.CHROMIUM_PATH = await chromiumPath().catch(() => 'none (the @sparticuz/chromium package)');
  // Everything the machine lacks, named at once, before anything is started.
  const missing = await missingPrerequisites({
    redis: { url: redisUrl, cluster: process.env.REDIS_CLUSTER === 'true' },
    localFhirServer: !running && !explicit,
    chromium: process.env.CHROMIUM_PATH,
    redisServers: true,
  });
  if (missing.length > 0) {
    throw new Error(`The tests need what this machine lacks:\n- ${missing.join('\n- ')}`);
  }
  if (!running) {
    if (explicit) {
      throw new Error(`No FHIR server answers at FHIR_BASE_URL=${baseUrl}`);
    }
    process.stderr.write(`\nStarting the local HAPI FHIR server on port ${port} for the tests...\n`);
    await startLocalFhirServer(port);
    process.env.HUB_TEST_STARTED_FHIR = '1';
  }
  process.env.FHIR_BASE_URL = baseUrl;
  await loadProfiles(new FhirGateway({ baseUrl, timeoutMs: 30000 }), path.join(root, 'profiles'));
}
