import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export { SpanKind } from '@opentelemetry/api';
export type { Span } from '@opentelemetry/api';

export interface TracingOptions {
  /** `service.name` on every span (e.g. `jam-gateway`, `jam`). */
  serviceName: string;
  /**
   * OTLP/HTTP collector base URL (`http://collector:4318`); `/v1/traces` is appended unless the
   * URL already ends with it. Unset: tracing stays off unless a test passes `exporter`.
   */
  otlpEndpoint?: string;
  enabled: boolean;
  /** Tests: export synchronously to this exporter (e.g. `InMemorySpanExporter`) instead of OTLP. */
  exporter?: SpanExporter;
}

const TRACER_NAME = '@jam/telemetry';
/** Handed to callbacks while tracing is off: every method is a no-op. */
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The provider this module registered globally; `undefined` = tracing off (the fast path everywhere). */
let active: NodeTracerProvider | undefined;

/**
 * Starts tracing for this process: a NodeTracerProvider with an AsyncLocalStorage context manager,
 * the W3C trace-context propagator and a BatchSpanProcessor to OTLP/HTTP. Disabled (or no
 * endpoint): nothing is registered, the OpenTelemetry API stays a no-op and the helpers below
 * skip all work. One provider per process: a second call while one runs is a no-op.
 * @returns shutdown: flushes pending spans and unregisters the globals.
 */
export function startTracing(opts: TracingOptions): () => Promise<void> {
  const exporter =
    opts.exporter ?? (opts.otlpEndpoint !== undefined && opts.otlpEndpoint !== '' ? new OTLPTraceExporter({ url: tracesUrl(opts.otlpEndpoint) }) : undefined);
  if (!opts.enabled || exporter === undefined || active !== undefined) return async () => undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName }),
    spanProcessors: [opts.exporter !== undefined ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register({ contextManager: new AsyncLocalStorageContextManager(), propagator: new W3CTraceContextPropagator() });
  active = provider;
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      try {
        await provider.shutdown();
      } finally {
        if (active === provider) {
          active = undefined;
          trace.disable();
          context.disable();
          propagation.disable();
        }
      }
    })();
    return stopped;
  };
}

export function isTracingEnabled(): boolean {
  return active !== undefined;
}

function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
}

/**
 * Runs `fn` inside a new active span (child of the active one, or of `opts.parent`); the span
 * ends when `fn` settles, with status ERROR and the exception recorded when it throws.
 * Tracing off: calls `fn` with a no-op span.
 */
export async function withSpan<T>(
  name: string,
  attrs: Attributes,
  fn: (span: Span) => Promise<T> | T,
  opts: { kind?: SpanKind; parent?: Context } = {},
): Promise<T> {
  if (active === undefined) return fn(NOOP_SPAN);
  const tracer = trace.getTracer(TRACER_NAME);
  const parent = opts.parent ?? context.active();
  return tracer.startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: attrs }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * The active trace context as W3C headers (`traceparent`, `tracestate`), for a queue job or an
 * outgoing request. Empty when tracing is off or no span is active.
 */
export function injectTraceContext(): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (active !== undefined) propagation.inject(context.active(), carrier);
  return carrier;
}

/** The context carried by `carrier` (from {@link injectTraceContext}); the root context when absent. */
export function extractTraceContext(carrier: Readonly<Record<string, string | string[] | undefined>> | undefined): Context {
  if (active === undefined || carrier === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** What a queue consumer span is named and tagged with. */
export interface JobSpanInfo {
  queue: string;
  name: string;
  id: string;
  attempt: number;
  /** The producer's carrier, as the queue driver hands it over (`ConsumedJob.traceContext`). */
  traceContext?: Readonly<Record<string, string>>;
}

/**
 * Runs a job handler inside a CONSUMER span that is a child of the producer's context, so a
 * package's trace continues across the queue hop. `fn` sets `jam.job.outcome`.
 */
export function withJobSpan<T>(job: JobSpanInfo, fn: (span: Span) => Promise<T>): Promise<T> {
  if (active === undefined) return fn(NOOP_SPAN);
  return withSpan(
    `${job.queue} process`,
    {
      'messaging.system': 'jam',
      'messaging.operation.type': 'process',
      'messaging.destination.name': job.queue,
      'messaging.message.id': job.id,
      'jam.job.name': job.name,
      'jam.job.attempt': job.attempt,
    },
    fn,
    { kind: SpanKind.CONSUMER, parent: extractTraceContext(job.traceContext) },
  );
}

/**
 * Connect/Express-style middleware: one SERVER span per request, continuing an incoming
 * `traceparent`, active for the rest of the chain (so enqueues made while handling the request
 * carry it). Named `METHOD <route template>` once the router has matched (`req.route.path`);
 * attributes: method, route, status, and `jam.package_hash` when `packageHashOf` finds one.
 */
export function httpTracingMiddleware(opts: { packageHashOf?: (req: IncomingMessage, res: ServerResponse) => string | undefined } = {}) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (active === undefined) return next();
    const tracer = trace.getTracer(TRACER_NAME);
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, extractTraceContext(req.headers));
    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      const route = (req as { route?: { path?: unknown } }).route?.path;
      if (typeof route === 'string') {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      const hash = opts.packageHashOf?.(req, res);
      if (hash !== undefined) span.setAttribute('jam.package_hash', hash);
      if (aborted) span.setAttribute('jam.aborted', true);
      else span.setAttribute('http.response.status_code', res.statusCode);
      if (aborted || res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    context.with(trace.setSpan(context.active(), span), next);
  };
}
