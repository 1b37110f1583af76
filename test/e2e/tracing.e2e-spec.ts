/**
 * Black-box test of tracing (docs/observability.md): real processes in production mode (a gateway,
 * and one process with every worker role) export OTLP/HTTP to a receiver in this test. A package
 * submitted over HTTP gives one trace: the gateway's SERVER span with pg and ioredis child spans
 * (auto-instrumentation, registered before those modules load), the refine, attestation and
 * accumulate CONSUMER spans chained across the queue hops and processes, and log lines of the
 * request and of the jobs that carry the same trace_id.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, freePort, runCli } from '../support/jam-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

/** OTLP span kinds (opentelemetry-proto trace.proto `SpanKind`). */
const KIND = { SERVER: 2, CLIENT: 3, CONSUMER: 5 } as const;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
}

/** A minimal OTLP/HTTP JSON trace receiver (`POST /v1/traces`), as a collector would run it. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; requests: () => number; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes?: { key: string; value: OtlpValue }[] })[] }[];
        }[];
      };
      const flat = (attrs: { key: string; value: OtlpValue }[] = []) =>
        Object.fromEntries(attrs.map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.boolValue)]));
      for (const rs of body.resourceSpans) {
        const service = String(flat(rs.resource.attributes)['service.name']);
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) spans.push({ ...s, service, parentSpanId: s.parentSpanId ?? '', attributes: flat(s.attributes) });
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    requests: () => requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The JSON log lines (pino) a process printed. */
function logLines(p: JamProcess): Record<string, unknown>[] {
  return p.output
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('tracing: OTLP export from real processes', () => {
  const testRedis = createTestRedis('e2eotel');
  const prefix = testRedis.prefix;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let db: TestDatabase | undefined;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let gateway: JamProcess;
  let workers: JamProcess;
  let base: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-otel-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    db = await createTestDatabase('e2e_otel');
    receiver = await startOtlpReceiver();
    const env = (roles: string) => ({
      DATABASE_URL: db!.url,
      REDIS_URL,
      JAM_QUEUE_PREFIX: prefix,
      JAM_ROLES: roles,
      JAM_PORT: String(port),
      JAM_DATA_DIR: path.join(tmp, 'data'),
      JAM_BLOB_DIR: path.join(tmp, 'blobs'),
      JAM_KEYS_DIR: path.join(tmp, 'keys'),
      JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(token).digest('hex')}`,
      JAM_SANDBOX_POOL_SIZE: '1',
      JAM_OTLP_ENDPOINT: receiver.url,
    });
    gateway = await JamProcess.start(env('gateway'), { port, timeoutMs: 60_000 });
    workers = await JamProcess.start(env('refine-worker,attestation,accumulate-worker'));
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([gateway?.stop(), workers?.stop()]);
    await receiver?.close();
    await testRedis.cleanup();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('joins the request, its queries and commands, the job chain and the log lines in one trace', async () => {
    const demo = await runCli(['demo', '--url', base, '--token', token], {}, PROCESS_TEST_TIMEOUT_MS, workers);
    if (demo.code !== 0) throw new Error(`demo failed (${demo.code}):\n${demo.stdout}\n${demo.stderr}\n${gateway.tail()}\n${workers.tail()}`);
    // A clean stop flushes each process's batched spans (main.ts stops tracing last).
    expect(await gateway.stop()).toBe(0);
    expect(await workers.stop()).toBe(0);
    const spans = receiver.spans;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const children = (s: ReceivedSpan) => spans.filter((c) => c.traceId === s.traceId && c.parentSpanId === s.spanId);

    const submits = spans.filter((s) => s.kind === KIND.SERVER && s.name === 'POST /jam/packages');
    expect(submits.length).toBeGreaterThan(0);
    // A submission whose package went all the way: refine -> attestation -> accumulate, each a CONSUMER span
    // whose parent is the span of the step that enqueued it, in the workers' process.
    const chained = submits.find((server) => {
      const accumulate = spans.find((s) => s.traceId === server.traceId && s.name === 'accumulate process');
      const attestation = accumulate && byId.get(accumulate.parentSpanId);
      const refine = attestation && byId.get(attestation.parentSpanId);
      return (
        attestation?.name === 'attestation process' && /^refine-(express-)?a\d+ process$/.test(refine?.name ?? '') && refine?.parentSpanId === server.spanId
      );
    });
    expect(chained).toBeDefined();
    const server = chained!;
    expect(server.service).toBe('jam-gateway');
    expect(server.attributes).toMatchObject({ 'http.route': '/jam/packages', 'http.response.status_code': 202 });
    const jobSpans = spans.filter((s) => s.traceId === server.traceId && s.kind === KIND.CONSUMER);
    expect(new Set(jobSpans.map((s) => s.service))).toEqual(new Set(['jam']));
    expect(jobSpans.every((s) => s.attributes['jam.job.outcome'] === 'completed' || s.attributes['jam.job.outcome'] === 'retry')).toBe(true);

    // Auto-instrumentation: the request's own PostgreSQL queries and Redis commands (the enqueue) are children of its span.
    const direct = children(server);
    expect(direct.some((s) => s.kind === KIND.CLIENT && s.attributes['db.system.name'] === 'postgresql' && /^pg\.query/.test(s.name))).toBe(true);
    expect(direct.some((s) => s.kind === KIND.CLIENT && s.attributes['db.system.name'] === 'redis')).toBe(true);
    // ...and so are a job's: the refine job reads the package from PostgreSQL.
    const refine = byId.get(byId.get(spans.find((s) => s.traceId === server.traceId && s.name === 'accumulate process')!.parentSpanId)!.parentSpanId)!;
    expect(children(refine).some((s) => s.attributes['db.system.name'] === 'postgresql')).toBe(true);

    // Probes and scrapes make no traces.
    expect(spans.filter((s) => /healthz|readyz|metrics/.test(s.name))).toEqual([]);

    // Log lines written inside the request and inside its jobs carry the trace id.
    const requestLine = logLines(gateway).find((l) => l['msg'] === 'request' && l['route'] === '/jam/packages' && l['trace_id'] === server.traceId);
    expect(requestLine).toMatchObject({ method: 'POST', status: 202, span_id: server.spanId });
    const jobLines = logLines(workers).filter((l) => l['trace_id'] === server.traceId);
    expect(jobLines.map((l) => l['msg'])).toEqual(expect.arrayContaining(['refined package']));
    expect(jobLines.every((l) => typeof l['span_id'] === 'string' && byId.get(l['span_id'] as string)?.traceId === server.traceId)).toBe(true);
    // Lines outside any request or job (start-up) have none.
    expect(logLines(workers).find((l) => l['msg'] === 'started')).not.toHaveProperty('trace_id');
  });
});
