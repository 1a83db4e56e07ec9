import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { Logger } from '../../logging/logger.js';

/** A caller's own request id is kept when it looks like one (no spaces, no control characters). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * One log line per request: request id, method, path, status, duration. The request id is the
 * caller's `X-Request-Id` when it sends a sane one, else a new UUID; it is answered in
 * `X-Request-Id` and left in `res.locals.requestId` for the error log, so a partner's report and
 * the hub's logs meet; with tracing on, the trace id joins them to the trace. The query string is left out on purpose: FHIR searches carry identifiers
 * and names, which are PHI (the reason this is not pino-http, which logs the URL).
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const sent = req.header('x-request-id');
    const requestId = sent && REQUEST_ID.test(sent) ? sent : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId,
          ...(traceId && !/^0+$/.test(traceId) ? { traceId } : {}),
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}
