import express, { Router } from 'express';
import { InvalidInputError } from '../../errors/hub-error.js';
import { bundleResponse } from '../../ingest/bundle-response.js';
import { readFhirBody, sendFhir } from '../fhir-format.js';
import { callingPartner } from '../middleware/partner-auth.js';
import type { FhirMessagingDeps } from './fhir-messaging.routes.js';

/**
 * `POST /fhir`: a `transaction` or `batch` Bundle (JSON or XML) sent to the hub's FHIR base, as the
 * FHIR REST API defines it. The sender is the partner of the access token. It is applied as the
 * `fhir-transaction` format is, waited for, and answered with a `transaction-response` or
 * `batch-response` naming each entry's status and location (ingest/bundle-response.ts).
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export function fhirBatchRoutes(deps: FhirMessagingDeps): Router {
  const router = Router();
  const body = express.raw({ type: () => true, limit: deps.bodyLimit });

  router.post(/^\/fhir\/?$/, body, async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const partnerId = callingPartner(req, res);
    const bundle = readFhirBody(raw);
    if (bundle.resourceType !== 'Bundle' || (bundle.type !== 'transaction' && bundle.type !== 'batch')) {
      throw new InvalidInputError('The FHIR base takes a Bundle of type transaction or batch', [
        {
          severity: 'error',
          code: 'invalid',
          diagnostics: 'POST to the FHIR base takes a Bundle of type transaction or batch',
          expression: ['Bundle.type'],
        },
      ]);
    }
    const entries = Array.isArray(bundle.entry) ? bundle.entry.length : 0;
    const accepted = await deps.ingest.ingest(partnerId, 'fhir-transaction', raw);
    const report = await deps.ingest.waitForApplied(accepted, deps.waitMs);
    const answer = bundleResponse(bundle.type, entries, report);
    sendFhir(req, res, answer.status, answer.body);
  });
  return router;
}
