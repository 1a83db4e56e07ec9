import { spawn } from 'node:child_process';
import { HAPI_SCRIPT } from './paths.js';

/**
 * Runs one subcommand of `fhir-server/bin/hapi` (build, start, wait, stop, status), streaming its
 * output to stderr so a long first build shows progress. Resolves on exit code 0.
 */
export function runHapiScript(args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [HAPI_SCRIPT, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`fhir-server/bin/hapi ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/** Starts the local HAPI server on `port` (building it first if needed) and waits until it answers. */
export async function startLocalFhirServer(port: number, waitSeconds = 300): Promise<void> {
  const env = { FHIR_PORT: String(port) };
  await runHapiScript(['start'], env);
  await runHapiScript(['wait', String(waitSeconds)], env);
}

export async function stopLocalFhirServer(port: number): Promise<void> {
  await runHapiScript(['stop'], { FHIR_PORT: String(port) });
}
