import { parentPort } from 'node:worker_threads';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig } from '../config/partners.js';
import { defaultFormats } from './format-registry.js';

/** What the parsing thread is asked: one body of one format, for one partner. */
export interface ParseRequest {
  readonly format: InboundFormat;
  readonly body: Uint8Array;
  readonly partner: PartnerConfig;
}

// Runs in a worker thread (see parse-off-thread.ts): parses one body and answers with the result.
parentPort?.once('message', (request: ParseRequest) => {
  try {
    const handler = defaultFormats()[request.format]!;
    parentPort!.postMessage({ result: handler.parse(Buffer.from(request.body), request.partner) });
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message });
  }
});
