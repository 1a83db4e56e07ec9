import express, { Router } from 'express';
import type { Bundle, MessageHeader, OperationOutcome } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { ForbiddenError, HubError, InvalidInputError } from '../../errors/hub-error.js';
import type { FhirMessageRecord } from '../../adapters/fhir-message/types.js';
import { CODE_SYSTEM } from '../../fhir/profiles.js';
import { reportToOutcome, type IngestService } from '../../ingest/ingest-service.js';
import { readFhirBody, sendFhir } from '../fhir-format.js';

export interface FhirMessagingDeps {
  readonly ingest: IngestService;
  readonly bodyLimit: string;
  /** The hub's own URL, named as the response's source endpoint. */
  readonly publicUrl: string;
  /** How long a synchronous `$process-message` waits for the message to be applied. */
  readonly waitMs: number;
}

/**
 * `POST /fhir/$process-message`: a FHIR message Bundle from a partner. The sending partner is
 * `MessageHeader.sender` (`Organization/<partnerId>`). The answer is a response message: its
 * MessageHeader.response says ok (applied: 200) or fatal-error (refused: 422, with an
 * OperationOutcome naming the elements). A message accepted but not applied yet (or sent with
 * `?async=true`) is answered 202 with an OperationOutcome and a `Content-Location` where
 * `GET /fhir/$process-message/responses/<id>` gives its response message once it exists.
 * @see https://hl7.org/fhir/R4/messageheader-operation-process-message.html
 */
export function fhirMessagingRoutes(deps: FhirMessagingDeps): Router {
  const router = Router();
  const body = express.raw({ type: () => true, limit: deps.bodyLimit });

  router.post(/^\/fhir\/\$process-message$/, body, async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = readHeader(raw);
    const partnerId = /^Organization\/([A-Za-z0-9-]+)$/.exec(header?.sender?.reference ?? '')?.[1];
    if (!partnerId) {
      throw new InvalidInputError(
        'MessageHeader.sender must reference the sending partner as Organization/<partnerId>',
        [
          {
            severity: 'error',
            code: 'required',
            diagnostics: 'MessageHeader.sender must be Organization/<partnerId>',
            expression: ['MessageHeader.sender'],
          },
        ],
      );
    }
    const authenticated = res.locals.partnerId as string | undefined;
    if (authenticated && authenticated !== partnerId) {
      const message = `MessageHeader.sender is Organization/${partnerId}, but the access token is ${authenticated}'s`;
      throw new ForbiddenError('AUTH.FORBIDDEN', message, 'MessageHeader.sender');
    }
    let report = await deps.ingest.ingest(partnerId, 'fhir-message', raw);
    if (req.query.async !== 'true') {
      report = await deps.ingest.waitForApplied(report, deps.waitMs);
    }
    const record = report.records.find((r) => r.status !== 'skipped');
    if (record?.status === 'accepted') {
      // Accepted for processing, which is not a failure: no response code yet (a sender resends on
      // transient-error). The response message is fetched from Content-Location once it exists.
      const location = `${deps.publicUrl}/fhir/$process-message/responses/${record.jobId}`;
      const outcome = reportToOutcome(report);
      res.set('Content-Location', location);
      sendFhir(req, res, 202, {
        ...outcome,
        issue: [
          {
            severity: 'information',
            code: 'informational',
            diagnostics: `message ${header!.id ?? ''}: accepted for processing; the response message will be at ${location}`,
          },
          ...outcome.issue,
        ],
      });
      return;
    }
    const code = record?.status === 'applied' ? 'ok' : 'fatal-error';
    sendFhir(
      req,
      res,
      code === 'ok' ? 200 : 422,
      responseMessage(header!, code, reportToOutcome(report), deps.publicUrl),
    );
  });

  // The response to a message accepted for processing: 202 while it is queued, then the response
  // message (ok or fatal-error). Only its sender sees it; anyone else is told there is none.
  router.get(/^\/fhir\/\$process-message\/responses\/([A-Za-z0-9.-]{1,200})$/, async (req, res) => {
    const jobId = String(req.params[0]);
    const state = jobId.includes('.fhir-message.') ? await deps.ingest.recordState(jobId) : undefined;
    const authenticated = res.locals.partnerId as string | undefined;
    if (!state || (authenticated && authenticated !== state.partnerId)) {
      throw new HubError('MESSAGE.NOT_FOUND', `No message response ${jobId}`, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: `No message response ${jobId}` }],
      });
    }
    const { result } = state;
    const report = { partnerId: state.partnerId, format: 'fhir-message' as const, records: [result] };
    if (result.status === 'accepted') {
      res.set('Retry-After', '5');
      sendFhir(req, res, 202, reportToOutcome(report));
      return;
    }
    const message = state.record as FhirMessageRecord;
    const request: MessageHeader = {
      resourceType: 'MessageHeader',
      id: message.messageId,
      eventCoding: { system: CODE_SYSTEM.messageEvent, code: message.event },
      source: { endpoint: 'unknown' },
      ...(message.sender ? { sender: { reference: message.sender } } : {}),
    };
    const code = result.status === 'applied' ? 'ok' : 'fatal-error';
    sendFhir(req, res, 200, responseMessage(request, code, reportToOutcome(report), deps.publicUrl));
  });
  return router;
}

/** The message's header, read from its JSON or XML form; a body neither can read is a 400. */
function readHeader(raw: Buffer): MessageHeader | undefined {
  const first = (readFhirBody(raw) as unknown as Bundle).entry?.[0]?.resource;
  return first?.resourceType === 'MessageHeader' ? first : undefined;
}

function responseMessage(
  request: MessageHeader,
  code: 'ok' | 'fatal-error',
  outcome: OperationOutcome,
  publicUrl: string,
): Bundle {
  const outcomeUrl = `urn:uuid:${randomUUID()}`;
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: randomUUID(),
    eventCoding: request.eventCoding,
    source: { name: 'Care coordination hub', endpoint: `${publicUrl}/fhir` },
    ...(request.sender
      ? { destination: [{ endpoint: request.source?.endpoint ?? 'unknown', receiver: request.sender }] }
      : {}),
    response: { identifier: request.id ?? 'unknown', code, details: { reference: outcomeUrl } },
  };
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'message',
    timestamp: new Date().toISOString(),
    entry: [
      { fullUrl: `urn:uuid:${header.id}`, resource: header },
      { fullUrl: outcomeUrl, resource: outcome },
    ],
  };
}
