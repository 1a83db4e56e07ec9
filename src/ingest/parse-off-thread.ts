import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ParseResult } from '../adapters/types.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig } from '../config/partners.js';
import { HubError } from '../errors/hub-error.js';
import type { ParseRequest } from './parse-worker.js';

/** Longest a parse may take before the thread is stopped and the batch refused. */
const PARSE_TIMEOUT_MS = 120_000;

/**
 * The compiled worker script: beside this module when the hub runs from `dist/`; from `dist/`
 * too when this module runs from its TypeScript source (tests build `dist/` first).
 */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const beside = path.join(path.dirname(here), 'parse-worker.js');
  // src/ingest and dist/ingest both sit two levels below the repository root.
  const root = path.resolve(path.dirname(here), '../..');
  return here.endsWith('.js') && existsSync(beside)
    ? beside
    : path.join(root, 'dist', 'ingest', 'parse-worker.js');
}

/**
 * Parses a body on a thread of its own, so a large batch (an HMIS export of thousands of clients
 * takes seconds) does not hold the event loop: HTTP, MLLP and every queue worker go on meanwhile.
 */
export function parseOffThread(
  format: InboundFormat,
  body: Buffer,
  partner: PartnerConfig,
): Promise<ParseResult<unknown>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerScript());
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(
        new HubError(
          'INGEST.PARSE_TIMEOUT',
          `Reading the ${format} batch took longer than ${PARSE_TIMEOUT_MS / 1000} s`,
          {
            status: 422,
            issues: [
              {
                severity: 'error',
                code: 'too-costly',
                diagnostics: `the ${format} batch is too large to read; split it`,
              },
            ],
          },
        ),
      );
    }, PARSE_TIMEOUT_MS);
    const settle = (): void => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.once('message', (answer: { result?: ParseResult<unknown>; error?: string }) => {
      settle();
      if (answer.result) {
        resolve(answer.result);
      } else {
        reject(new Error(`parsing ${format} failed: ${answer.error ?? 'no answer'}`));
      }
    });
    worker.once('error', (err) => {
      settle();
      reject(err);
    });
    const request: ParseRequest = { format, body: new Uint8Array(body), partner };
    worker.postMessage(request);
  });
}
