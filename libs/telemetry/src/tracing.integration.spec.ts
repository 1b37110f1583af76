import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger } from './logger';
import { SpanKind, extractTraceContext, httpTracingMiddleware, injectTraceContext, isTracingEnabled, startTracing, withJobSpan, withSpan } from './tracing';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

/** A pino logger whose JSON lines are collected, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } as never,
  });
  return { logger, lines };
}

describe('tracing off', () => {
  it('writes log lines without trace fields', async () => {
    const stop = startTracing({ serviceName: 't', enabled: false, exporter: new InMemorySpanExporter() });
    try {
      const { logger, lines } = capturingLogger();
      await withSpan('outer', {}, () => logger.info('inside'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toHaveProperty('trace_id');
      expect(lines[0]).not.toHaveProperty('span_id');
    } finally {
      await stop();
    }
  });

  it('records nothing, injects nothing and still runs the callbacks', async () => {
    const exporter = new InMemorySpanExporter();
    const stop = startTracing({ serviceName: 't', enabled: false, exporter });
    try {
      expect(isTracingEnabled()).toBe(false);
      const out = await withSpan('outer', { a: 1 }, async () => {
        expect(injectTraceContext()).toEqual({});
        return withJobSpan(
          { queue: 'q', name: 'n', id: '1', attempt: 1, traceContext: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` } },
          async (span) => {
            span.setAttribute('x', 1);
            return 42;
          },
        );
      });
      expect(out).toBe(42);
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      await stop();
    }
  });

  it('stays off without an endpoint even when enabled', async () => {
    const stop = startTracing({ serviceName: 't', enabled: true });
    expect(isTracingEnabled()).toBe(false);
    await stop();
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let stop: () => Promise<void>;
  beforeAll(() => {
    stop = startTracing({ serviceName: 'jam-test', enabled: true, exporter });
  });
  afterAll(async () => {
    await stop();
    expect(isTracingEnabled()).toBe(false);
  });
  beforeEach(() => exporter.reset());

  it('nests spans, records errors and round-trips the W3C carrier', async () => {
    let carrier: Record<string, string> = {};
    await withSpan('parent', { 'jam.package_hash': '0xab' }, async (parent) => {
      carrier = injectTraceContext();
      expect(carrier['traceparent']).toMatch(TRACEPARENT);
      expect(carrier['traceparent']).toContain(parent.spanContext().traceId);
      await expect(withSpan('child', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    });
    const ctx = trace.getSpanContext(extractTraceContext(carrier));
    const [child, parent] = exporter.getFinishedSpans();
    expect(parent?.name).toBe('parent');
    expect(parent?.resource.attributes['service.name']).toBe('jam-test');
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(child?.status.code).toBe(2);
    expect(ctx?.spanId).toBe(parent?.spanContext().spanId);
  });

  it('puts the active span ids on log lines written inside it, and none outside', async () => {
    const { logger, lines } = capturingLogger();
    logger.info('before');
    await withJobSpan({ queue: 'attestation', name: 'verify-attestation.v1', id: 'j2', attempt: 1 }, async () => {
      logger.warn({ packageHash: '0xab' }, 'inside');
    });
    const [span] = exporter.getFinishedSpans();
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({
      msg: 'inside',
      packageHash: '0xab',
      trace_id: span?.spanContext().traceId,
      span_id: span?.spanContext().spanId,
      trace_flags: '01',
    });
  });

  it('starts a CONSUMER span as a child of the producer carrier', async () => {
    let carrier: Record<string, string> = {};
    await withSpan('enqueue', {}, () => void (carrier = injectTraceContext()));
    await withJobSpan({ queue: 'refine-a0', name: 'refine.package.v1', id: 'j1', attempt: 2, traceContext: carrier }, async (span) =>
      span.setAttribute('jam.job.outcome', 'completed'),
    );
    const [producer, consumer] = exporter.getFinishedSpans();
    expect(consumer?.kind).toBe(SpanKind.CONSUMER);
    expect(consumer?.spanContext().traceId).toBe(producer?.spanContext().traceId);
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
    expect(consumer?.attributes).toMatchObject({
      'messaging.destination.name': 'refine-a0',
      'jam.job.name': 'refine.package.v1',
      'jam.job.attempt': 2,
      'jam.job.outcome': 'completed',
    });
  });

  it('opens one SERVER span per request, continuing an incoming traceparent', async () => {
    const mw = httpTracingMiddleware({ packageHashOf: () => '0xcafe' });
    const server = http.createServer((req, res) =>
      mw(req, res, () => {
        (req as { route?: { path: string } }).route = { path: '/jam/packages/:hash' };
        res.setHeader('x-trace', injectTraceContext()['traceparent'] ?? '');
        res.writeHead(202).end();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const traceId = 'a'.repeat(32);
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jam/packages/0xcafe`, {
        headers: { traceparent: `00-${traceId}-${'b'.repeat(16)}-01` },
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('x-trace')).toContain(traceId);
      await new Promise((r) => setTimeout(r, 20));
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('GET /jam/packages/:hash');
      expect(span?.kind).toBe(SpanKind.SERVER);
      expect(span?.spanContext().traceId).toBe(traceId);
      expect(span?.parentSpanContext?.spanId).toBe('b'.repeat(16));
      expect(span?.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': '/jam/packages/:hash',
        'http.response.status_code': 202,
        'jam.package_hash': '0xcafe',
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
