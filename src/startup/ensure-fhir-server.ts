import type { HubConfig } from '../config/load-config.js';
import { DependencyError } from '../errors/hub-error.js';
import { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';
import { startLocalFhirServer } from './local-fhir-server.js';
import { missingPrerequisites } from './prerequisites.js';

/** Whether the hub found the FHIR server running or started it. */
export type FhirServerOrigin = 'external' | 'started';

/**
 * Makes sure an R4 FHIR server answers at the configured base URL. When none answers and
 * autostart is on (no `FHIR_BASE_URL` given), starts the local HAPI server from `fhir-server/`.
 * Otherwise fails fast with an error naming `FHIR_BASE_URL`.
 */
export async function ensureFhirServer(config: HubConfig, logger: Logger): Promise<FhirServerOrigin> {
  const probe = new FhirGateway({ baseUrl: config.fhir.baseUrl, timeoutMs: 5000, retry: { retries: 0 } });
  const first = await probeR4(probe);
  if (first === 'ok') {
    return 'external';
  }
  if (!config.fhir.autostart) {
    throw new DependencyError(
      'FHIR.UNREACHABLE',
      `FHIR server is not reachable at FHIR_BASE_URL=${config.fhir.baseUrl}: ${first}`,
    );
  }
  // Redis was checked just before (start-hub.ts); what starting HAPI needs is checked here.
  const missing = await missingPrerequisites({ localFhirServer: true });
  if (missing.length > 0) {
    throw new DependencyError(
      'PREREQUISITES.MISSING',
      `No FHIR server answers at ${config.fhir.baseUrl}, and starting the local one needs what this machine lacks:\n- ${missing.join('\n- ')}`,
    );
  }
  logger.info({ port: config.fhir.localPort }, 'no FHIR server answers; starting the local HAPI server');
  await startLocalFhirServer(config.fhir.localPort);
  const second = await probeR4(probe);
  if (second !== 'ok') {
    throw new DependencyError(
      'FHIR.UNREACHABLE',
      `local HAPI server started but ${config.fhir.baseUrl}: ${second}`,
    );
  }
  return 'started';
}

/** 'ok' when the server answers `/metadata` as FHIR R4, otherwise why not. */
async function probeR4(gateway: FhirGateway): Promise<string> {
  try {
    const capabilities = await gateway.capabilities();
    if (!capabilities.fhirVersion?.startsWith('4.0')) {
      return `it speaks FHIR ${capabilities.fhirVersion ?? '(unknown version)'}, the hub needs R4 (4.0.x)`;
    }
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}
