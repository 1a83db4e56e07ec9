import express, { Router } from 'express';
import { assertJsonDepth } from '../middleware/hardening.js';
import type { Bundle, MessageHeader, OperationOutcome } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { ForbiddenError, InvalidInputError } from '../../errors/hub-error.js';
import { reportToOutcome, type IngestService } from '../../ingest/ingest-service.js';
import { looksLikeXml, readFhirDocument } from '../../fhir/fhir-xml.js';
import { sendFhir } from '../fhir-response.js';

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
 * MessageHeader.response says ok (applied: 200), fatal-error (refused: 422, with an
 * OperationOutcome naming the elements) or transient-error (accepted but not applied yet: 202).
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
    const record = report.records[0];
    const code =
      record?.status === 'applied' ? 'ok' : record?.status === 'rejected' ? 'fatal-error' : 'transient-error';
    const status = code === 'ok' ? 200 : code === 'fatal-error' ? 422 : 202;
    sendFhir(req, res, status, responseMessage(header!, code, reportToOutcome(report), deps.publicUrl));
  });
  return router;
}

/** The message's header, read from its JSON or XML form; a body neither can read is a 400. */
function readHeader(raw: Buffer): MessageHeader | undefined {
  const text = raw.toString('utf8');
  if (!looksLikeXml(text)) {
    assertJsonDepth(text);
  }
  const read = readFhirDocument(raw);
  if ('issues' in read) {
    throw new InvalidInputError(
      'The body is not a FHIR Bundle in JSON or XML',
      read.issues.map((i) => ({
        severity: 'error',
        code: 'structure',
        diagnostics: i.message,
        expression: [i.field],
      })),
    );
  }
  const first = (read.resource as unknown as Bundle).entry?.[0]?.resource;
  return first?.resourceType === 'MessageHeader' ? first : undefined;
}

function responseMessage(
  request: MessageHeader,
  code: 'ok' | 'transient-error' | 'fatal-error',
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
