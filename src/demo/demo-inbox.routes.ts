import express, { Router } from 'express';
import type { Bundle, MessageHeader } from 'fhir/r4.js';

/** What the demo inbox keeps per partner. */
interface InboxEntry {
  readonly receivedAt: string;
  readonly messageId: string;
  readonly planVersion: string;
  readonly duplicate: boolean;
  readonly summary: string;
}

const KEEP = 100;

/**
 * Stand-in endpoints for the demo partners, so `npm start` shows routing end to end without any
 * partner system: `POST /demo/inbox/:partnerId/$process-message` takes a plan-change message the
 * way a partner's FHIR endpoint would (answering a response message, de-duplicating by message id)
 * and `GET /demo/inbox/:partnerId` lists what arrived. Only mounted with the demo partner files.
 */
export function demoInboxRoutes(): Router {
  const router = Router();
  const inboxes = new Map<string, InboxEntry[]>();

  router.post(
    /^\/demo\/inbox\/([a-z0-9-]+)\/\$process-message$/,
    express.json({ type: ['application/fhir+json', 'application/json'], limit: '5mb' }),
    (req, res) => {
      const partnerId = (req.params as Record<string, string>)[0]!;
      const bundle = req.body as Bundle;
      const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
      const messageId = String(req.headers['x-hub-message-id'] ?? header?.id ?? '');
      const inbox = inboxes.get(partnerId) ?? [];
      const notice = bundle.entry?.find((e) => e.resource?.resourceType === 'Communication')?.resource as
        { payload?: Array<{ contentString?: string }> } | undefined;
      inbox.unshift({
        receivedAt: new Date().toISOString(),
        messageId,
        planVersion: String(req.headers['x-hub-plan-version'] ?? ''),
        duplicate: inbox.some((e) => e.messageId === messageId),
        summary: notice?.payload?.[0]?.contentString ?? '',
      });
      inboxes.set(partnerId, inbox.slice(0, KEEP));
      res.type('application/fhir+json').json({
        resourceType: 'Bundle',
        type: 'message',
        entry: [
          {
            resource: {
              resourceType: 'MessageHeader',
              eventCoding: header?.eventCoding,
              source: { endpoint: `urn:demo:${partnerId}` },
              response: { identifier: messageId, code: 'ok' },
            },
          },
        ],
      });
    },
  );

  router.get('/demo/inbox/:partnerId', (req, res) => {
    res.json(inboxes.get(req.params.partnerId) ?? []);
  });
  return router;
}
