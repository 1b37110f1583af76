import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, isTracingSuppressed } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { NodeSDK } from '@opentelemetry/sdk-node';

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

/**
 * Requests that get no span (and whose pg / ioredis calls get none either): liveness and readiness
 * probes and Prometheus scrapes, which would otherwise be most traces of an idle deployment.
 */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Per request: how the gateway's middleware finishes the SERVER span (route name, package hash); see {@link httpTracingMiddleware}. */
const serverSpanFinishers = new WeakMap<IncomingMessage, (span: Span, res: ServerResponse) => void>();

const TRACER_NAME = '@jam/telemetry';
/** Handed to callbacks while tracing is off: every method is a no-op. */
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The SDK this module started; `undefined` = tracing off (the fast path everywhere). */
let active: { sdk: NodeSDK; disableInstrumentations: () => void } | undefined;

/**
 * Starts tracing for this process with `@opentelemetry/sdk-node`: the AsyncLocalStorage context
 * manager, the W3C trace-context propagator, a BatchSpanProcessor to OTLP/HTTP (JSON) and the
 * auto-instrumentations of `http` (SERVER spans for incoming requests, CLIENT spans for outgoing
 * ones inside a trace), `pg` and `ioredis` (one span per query / command, only inside a trace).
 * No metrics or logs are exported through OpenTelemetry (Prometheus and pino stay the channels).
 *
 * Import order: an instrumentation patches a module when it is `require`d after this call, so
 * every process entry (`apps/<role>/src/main.ts`, `apps/standalone/src/main.ts`) calls it before it loads the roles and
 * with it express, pg, ioredis and BullMQ. Called later, `http` is still patched (a core module,
 * patched in place on its next require) but pg and ioredis may not be: their calls then get no
 * spans while the job and request spans still work.
 *
 * Disabled (or no endpoint and no test exporter): nothing is loaded or registered (the SDK and
 * instrumentations are not even required), the OpenTelemetry API stays a no-op and the helpers
 * below skip all work. One SDK per process: a second call while one runs is a no-op.
 * @returns shutdown: flushes pending spans, disables the instrumentations and unregisters the globals.
 */
export function startTracing(opts: TracingOptions): () => Promise<void> {
  const hasEndpoint = opts.otlpEndpoint !== undefined && opts.otlpEndpoint !== '';
  if (!opts.enabled || (!hasEndpoint && opts.exporter === undefined) || active !== undefined) return async () => undefined;
  const exporter = opts.exporter ?? new OTLPTraceExporter({ url: tracesUrl(opts.otlpEndpoint!) });
  // Loaded here, not at the top: with tracing off the process never loads the SDK (about 225 modules, 0.1-0.3 s of start-up here).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const httpConfig: HttpInstrumentationConfig = {
    ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?', 1)[0] ?? ''),
    // Background work (janitor, probes) makes no root spans of its own: outgoing calls are traced inside a request or job only.
    requireParentforOutgoingSpans: true,
    applyCustomAttributesOnSpan: (span, req, res) => {
      if ('headers' in req && 'statusCode' in res) serverSpanFinishers.get(req as IncomingMessage)?.(span, res as ServerResponse);
    },
  };
  const instrumentations = [
    new HttpInstrumentation(httpConfig),
    // Statements are recorded without their parameter values (enhancedDatabaseReporting off).
    new PgInstrumentation({ requireParentSpan: true }),
    // Commands are recorded with their key arguments only (the default serializer), never values.
    new IORedisInstrumentation({ requireParentSpan: true }),
  ];
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    spanProcessors: [opts.exporter !== undefined ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
    contextManager: new AsyncLocalStorageContextManager(),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations,
    // Without these the SDK would also start OTLP metric and log exporters to localhost:4318.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const started = { sdk, disableInstrumentations: () => instrumentations.forEach((i) => i.disable()) };
  active = started;
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      try {
        await sdk.shutdown();
      } finally {
        if (active === started) {
          active = undefined;
          started.disableInstrumentations();
          trace.disable();
          context.disable();
          propagation.disable();
        }
      }
    })();
    return stopped;
  };
}

/**
 * Tracing for a JAM process running `roles`: service name `jam-<role>` for a one-role process,
 * `jam` otherwise; on only when `otlpEndpoint` (`JAM_OTLP_ENDPOINT`) is set. Call it before pg,
 * ioredis or http are required (docs/observability.md); a second call is a no-op.
 * @returns the stop step (flushes spans)
 */
export function startProcessTracing(roles: readonly string[], otlpEndpoint: string | undefined): () => Promise<void> {
  return startTracing({ serviceName: roles.length === 1 ? `jam-${roles[0]}` : 'jam', otlpEndpoint, enabled: otlpEndpoint !== undefined });
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
 * The active span's ids for a log line (`trace_id`, `span_id`, `trace_flags`, the field names of
 * OpenTelemetry's log data model and of `@opentelemetry/instrumentation-pino`); empty when tracing
 * is off or no span is active. Used as the pino `mixin` of {@link createLogger}.
 */
export function activeTraceFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  if (active === undefined) return {};
  const sc = trace.getSpanContext(context.active());
  if (sc === undefined || !isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: `0${sc.traceFlags.toString(16)}` };
}

/**
 * Connect/Express-style middleware, first in the chain: the request's SERVER span, named
 * `METHOD <route template>` once the router has matched (`req.route.path`); attributes: method,
 * route, status, and `jam.package_hash` when `packageHashOf` finds one; 5xx and aborted requests
 * are errors. The span is the one `@opentelemetry/instrumentation-http` opened for the request
 * (continuing an incoming `traceparent`); where that instrumentation is not active (the `http`
 * module was loaded and cached before tracing started) the middleware opens the span itself.
 * Either way it is active for the rest of the chain, so enqueues made while handling the request
 * carry it.
 */
export function httpTracingMiddleware(opts: { packageHashOf?: (req: IncomingMessage, res: ServerResponse) => string | undefined } = {}) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    // Suppressed: instrumentation-http was told to leave this request alone (UNTRACED_PATHS).
    if (active === undefined || isTracingSuppressed(context.active())) return next();
    const method = req.method ?? 'GET';
    const finishSpan = (span: Span, aborted: boolean): void => {
      const route = (req as { route?: { path?: unknown } }).route?.path;
      if (typeof route === 'string') {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      const hash = opts.packageHashOf?.(req, res);
      if (hash !== undefined) span.setAttribute('jam.package_hash', hash);
      span.setAttribute('http.request.method', method);
      if (aborted) span.setAttribute('jam.aborted', true);
      else span.setAttribute('http.response.status_code', res.statusCode);
      if (aborted || res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    };
    const current = trace.getSpan(context.active());
    if (current !== undefined && current.isRecording()) {
      // instrumentation-http's span: it ends it on 'close' and calls this first (applyCustomAttributesOnSpan).
      serverSpanFinishers.set(req, (span) => finishSpan(span, !res.writableFinished));
      return next();
    }
    const tracer = trace.getTracer(TRACER_NAME);
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, extractTraceContext(req.headers));
    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      finishSpan(span, aborted);
      span.end();
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    context.with(trace.setSpan(context.active(), span), next);
  };
}
