import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';

// OpenTelemetry tracing (README, "Traces"): one trace follows a record from the HTTP request or
// MLLP message through every queue job to the partner delivery, which carries `traceparent`.
// Off unless started; the API calls below are then no-ops.

/** The hub's tracer. */
export const TRACER_NAME = 'care-coordination-hub';

let started: NodeTracerProvider | undefined;

/**
 * Starts tracing: spans go to `exporter` (the tests' in-memory one), to an OTLP/HTTP collector
 * (the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT), or to the console; `none` starts nothing.
 */
export function startTracing(options: {
  readonly exporter: 'otlp' | 'console' | 'none' | SpanExporter;
  readonly serviceName: string;
}): { shutdown(): Promise<void> } | undefined {
  const { exporter, serviceName } = options;
  if (exporter === 'none') {
    return undefined;
  }
  const processor =
    exporter === 'otlp'
      ? new BatchSpanProcessor(new OTLPTraceExporter())
      : new SimpleSpanProcessor(exporter === 'console' ? new ConsoleSpanExporter() : exporter);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [processor],
  });
  // The async-hooks context manager and the W3C trace-context propagator.
  provider.register();
  started = provider;
  return {
    shutdown: async () => {
      await provider.shutdown();
      started = undefined;
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Whether spans go anywhere: the queues carry trace context only then (queues/queue-factory.ts). */
export function tracingOn(): boolean {
  return started !== undefined;
}

/** Runs `work` in a new span, a child of the active one; a thrown error marks the span and is rethrown. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The id of the active trace, if any: work done for different traces must not share a span. */
export function activeTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}

/** The active trace as W3C headers (`traceparent`, `tracestate`), for a request the hub sends. */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

export { SpanKind };
