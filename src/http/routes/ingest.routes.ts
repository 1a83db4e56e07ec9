import express, { Router } from 'express';
import { assertJsonDepth } from '../middleware/hardening.js';
import { INBOUND_FORMATS, type InboundFormat } from '../../config/inbound-formats.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';
import type { FormatHandlers } from '../../ingest/formats.js';
import { reportToOutcome, statusOf, type IngestService } from '../../ingest/ingest-service.js';
import type { RejectedStore, StoredRejection } from '../../ingest/rejected-store.js';
import { sendFhir } from '../fhir-format.js';
import { outcome } from '../../errors/to-operation-outcome.js';
import type { BatchStore } from '../../ingest/batch-store.js';
import { batchStatus, type BatchDeps } from '../../ingest/batches.queue.js';
import { wholeNumberParam } from '../query-params.js';

export interface IngestRouteDeps {
  readonly ingest: IngestService;
  readonly formats: FormatHandlers;
  readonly rejected: RejectedStore;
  /** Largest accepted body, e.g. `20mb`. */
  readonly bodyLimit: string;
  /** Batches taken with `Prefer: respond-async`: stored, then parsed by a job. Absent: always synchronous. */
  readonly batches?: BatchDeps & {
    readonly batches: BatchStore;
    enqueue(batchId: string): Promise<void>;
  };
}

/** Longest a caller may ask `?wait=` to wait for its records to be applied. */
const MAX_WAIT_SECONDS = 60;

/**
 * `POST /ingest/:partnerId/:format`: a batch in a partner's own format. Answers 202 with an
 * OperationOutcome naming every record (accepted, or rejected with its fields); `?wait=N` waits up
 * to N seconds for the records to be applied and names the resources written (200 when all were).
 * `/admin/rejected`: list, inspect, replay (optionally with a corrected body) and discard rejected records.
 */
export function ingestRoutes(deps: IngestRouteDeps): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: deps.bodyLimit });

  router.post('/ingest/:partnerId/:format', raw, async (req, res) => {
    const format = parseFormat(req.params.format);
    const handler = deps.formats[format];
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (handler && !handler.contentTypes.includes(contentType)) {
      throw new HubError(
        'INGEST.CONTENT_TYPE',
        `${format} must be sent as ${handler.contentTypes.join(' or ')}, not "${contentType || '(none)'}"`,
        {
          status: 415,
          issues: [
            {
              severity: 'error',
              code: 'not-supported',
              diagnostics: `${format} must be sent as ${handler.contentTypes.join(' or ')}`,
            },
          ],
        },
      );
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (contentType.endsWith('json')) {
      assertJsonDepth(body.toString('utf8'));
    }
    if (deps.batches && /\brespond-async\b/i.test(req.get('prefer') ?? '')) {
      // The body is stored before the 202: a batch the hub answered for is never lost.
      deps.ingest.partnerFor(req.params.partnerId, format);
      const batch = await deps.batches.batches.create(req.params.partnerId, format, body);
      await deps.batches.enqueue(batch.id);
      const location = `/ingest/${req.params.partnerId}/batches/${batch.id}`;
      res.set('Content-Location', location);
      sendFhir(
        req,
        res,
        202,
        outcome('information', 'informational', `Accepted for processing: ${location}`),
      );
      return;
    }
    let report = await deps.ingest.ingest(req.params.partnerId, format, body);
    const wait = waitSeconds(req.query.wait);
    if (wait > 0) {
      report = await deps.ingest.waitForApplied(report, wait * 1000);
    }
    sendFhir(req, res, statusOf(report), reportToOutcome(report));
  });

  // Only the partner that sent a batch reads its status; another's batch id is not found.
  router.get('/ingest/:partnerId/batches/:id', async (req, res) => {
    const batch = deps.batches ? await deps.batches.batches.get(req.params.id) : undefined;
    if (!deps.batches || !batch || batch.partnerId !== req.params.partnerId) {
      throw new HubError('INGEST.NO_BATCH', `No batch ${req.params.id} of ${req.params.partnerId}`, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: `No batch ${req.params.id}` }],
      });
    }
    const status = await batchStatus(deps.batches, batch);
    if (status.counts) {
      res.set(
        'X-Progress',
        `${status.counts.records - status.counts.pending} of ${status.counts.records} records settled`,
      );
    }
    res.status(status.status === 'done' ? 200 : 202).json(status);
  });

  // Paged by a cursor: the next page is named in `Link: <...>; rel="next"` (RFC 8288).
  router.get('/admin/rejected', async (req, res) => {
    const partnerId = typeof req.query.partner === 'string' ? req.query.partner : undefined;
    const limit = wholeNumberParam(req.query, 'limit', { min: 1, max: 500 }) ?? 500;
    const before = typeof req.query.before === 'string' ? req.query.before : undefined;
    const page = await deps.rejected.page({
      ...(partnerId ? { partnerId } : {}),
      limit,
      ...(before ? { before } : {}),
    });
    if (page.next) {
      const next = new URLSearchParams({
        ...(partnerId ? { partner: partnerId } : {}),
        limit: String(limit),
        before: page.next,
      });
      res.set('Link', `</admin/rejected?${next.toString()}>; rel="next"`);
    }
    res.json(page.items);
  });

  router.get('/admin/rejected/:id', async (req, res) => {
    const rejection = await findRejection(deps.rejected, req.params.id);
    res.json(rejection);
  });

  // Replays the corrected record in the body, or the stored one: a record the server refused is
  // re-queued as parsed, one the adapter refused is parsed again from its raw form. The rejection
  // is removed once the replay was accepted (if refused again, it is stored as a new rejection).
  router.post('/admin/rejected/:id/replay', raw, async (req, res) => {
    const rejection = await findRejection(deps.rejected, req.params.id);
    const corrected = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
    const report = await deps.ingest.replay(rejection, corrected);
    sendFhir(req, res, statusOf(report), reportToOutcome(report));
  });

  router.delete('/admin/rejected/:id', async (req, res) => {
    const removed = await deps.rejected.remove(req.params.id);
    res.status(removed ? 204 : 404).end();
  });

  return router;
}

function parseFormat(value: string): InboundFormat {
  if (!(INBOUND_FORMATS as readonly string[]).includes(value)) {
    throw new HubError(
      'INGEST.UNKNOWN_FORMAT',
      `Unknown format "${value}"; one of ${INBOUND_FORMATS.join(', ')}`,
      {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: `Unknown format "${value}"` }],
      },
    );
  }
  return value as InboundFormat;
}

function waitSeconds(value: unknown): number {
  if (value === undefined) {
    return 0;
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > MAX_WAIT_SECONDS) {
    throw new InvalidInputError(`wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return n;
}

/** The stored rejection, or a 404 OperationOutcome (through the error handler). */
/** A rejected record by id, or a 404 naming it. */
export async function findRejection(store: RejectedStore, id: string): Promise<StoredRejection> {
  const rejection = await store.get(id);
  if (!rejection) {
    throw new HubError('REJECTED.NOT_FOUND', `No rejected record ${id}`, {
      status: 404,
      issues: [{ severity: 'error', code: 'not-found', diagnostics: `No rejected record ${id}` }],
    });
  }
  return rejection;
}
