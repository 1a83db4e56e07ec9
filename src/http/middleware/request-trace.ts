import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { TRACER_NAME } from '../../tracing/tracing.js';

/**
 * A server span per request, continuing the caller's trace when it sends `traceparent`. The
 * request and response are bound to the span's context, so the body parsers' callbacks, the
 * route and every job it queues stay in the trace (README, "Traces"). Named by the route pattern
 * once routed, never by the query string, which carries identifiers.
 */
export function traceRequests(): RequestHandler {
  const tracer = trace.getTracer(TRACER_NAME);
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    context.bind(active, req);
    context.bind(active, res);
    res.on('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      span.updateName(typeof route === 'string' ? `${req.method} ${route}` : req.method);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (typeof res.locals.partnerId === 'string') {
        span.setAttribute('hub.partner', res.locals.partnerId);
      }
      if (res.statusCode >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    context.with(active, next);
  };
}
