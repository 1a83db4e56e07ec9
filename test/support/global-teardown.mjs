// Stops the local HAPI server only if the global setup started it.
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export default async function globalTeardown() {
  if (process.env.HUB_TEST_STARTED_FHIR === '1') {
    const { stopLocalFhirServer } = await import(path.join(root, 'dist/startup/local-fhir-server.js'));
    await stopLocalFhirServer(Number(process.env.FHIR_PORT ?? 8080));
  }
}
