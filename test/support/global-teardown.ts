import { stopLocalFhirServer } from '../../src/startup/local-fhir-server.js';
import { LOCAL_FHIR_PORT } from './test-env.js';

/** Stops the local HAPI server only if the global setup started it. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.HUB_TEST_STARTED_FHIR === '1') {
    await stopLocalFhirServer(LOCAL_FHIR_PORT);
  }
}
