import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blake2b256, initHashing, parseJamJson, toHex, workPackageFromJson, type WorkPackage } from '@jam/domain';
import { JamApiError, JamClient, JamClientError, JamNetworkError, type PackageInfo, type UploadProgress } from './index';
import { fakeJam, sendError, sendJson, startFakeServer, type FakeServer } from './testing/fake-jam-server';

const zero = new Uint8Array(32);
const samplePackage = (): WorkPackage => ({
  authorization: new Uint8Array([1, 2]),
  auth_code_host: 7,
  auth_code_hash: zero,
  authorizer_config: new Uint8Array(0),
  context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
  items: [
    {
      service: 7,
      code_hash: zero,
      payload: new TextEncoder().encode('hello world'),
      refine_gas_limit: 10_000_000n,
      accumulate_gas_limit: 2n ** 60n,
      import_segments: [],
      extrinsic: [],
      export_count: 0,
    },
  ],
});

const pkgInfo = (hash: string, status: PackageInfo['status']): PackageInfo => ({
  hash,
  status,
  service_ids: [7],
  report_hash: null,
  error: status === 'failed' ? { code: 'refine_sandbox_failure', message: 'trap' } : null,
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-01T00:00:00.000Z',
  accumulated_at: null,
  retries: 0,
});

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
beforeAll(() => initHashing());

describe('JamClient against the documented API shapes', () => {
  it('uploads a preimage with the bearer token: 201 new, then 200 already stored', async () => {
    const jam = fakeJam({ token: 'secret' });
    server = await startFakeServer(jam.handler);
    const client = new JamClient({ baseUrl: `${server.url}/`, token: 'secret' });
    const bytes = new TextEncoder().encode('some code');

    const first = await client.putPreimage(bytes);
    const again = await client.putPreimage(bytes);

    expect(first).toEqual({ hash: toHex(blake2b256(bytes)), length: bytes.length, created: true });
    expect(again.created).toBe(false);
    const req = server.requests[0];
    expect(req?.headers.authorization).toBe('Bearer secret');
    expect(req?.headers['content-type']).toBe('application/octet-stream');
    expect(req?.url.pathname).toBe(`/jam/preimages/${first.hash}`);
    expect(Buffer.from(await client.getPreimage(first.hash)).toString()).toBe('some code');
    expect((await client.preimageMeta(first.hash)).length).toBe(bytes.length);
  });

  it('reports upload progress chunk by chunk and sends Content-Length', async () => {
    const jam = fakeJam();
    server = await startFakeServer(jam.handler);
    const client = new JamClient({ baseUrl: server.url });
    const bytes = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => i % 251);
    const seen: UploadProgress[] = [];

    const r = await client.putPreimage(bytes, (p) => seen.push(p));

    expect(r.created).toBe(true);
    expect(server.requests[0]?.headers['content-length']).toBe(String(bytes.length));
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((p) => p.totalBytes === bytes.length)).toBe(true);
    expect(seen.map((p) => p.sentBytes)).toEqual([...seen.map((p) => p.sentBytes)].sort((a, b) => a - b));
    expect(seen.at(-1)?.sentBytes).toBe(bytes.length);
    expect(jam.state.preimages.get(r.hash)?.equals(Buffer.from(bytes))).toBe(true);
  });

  it('uploads a stream source and refuses one shorter than its declared length', async () => {
    const jam = fakeJam();
    server = await startFakeServer(jam.handler);
    const client = new JamClient({ baseUrl: server.url });
    const data = Buffer.from('x'.repeat(200_000));
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
    }
    const hash = toHex(blake2b256(data));
    const progress: number[] = [];

    const r = await client.putPreimage({ stream: chunks(), length: data.length, hash: hash.toUpperCase().replace('0X', '0x') }, (p) =>
      progress.push(p.sentBytes),
    );
    expect(r).toEqual({ hash, length: data.length, created: true });
    expect(progress.at(-1)).toBe(data.length);

    await expect(client.putPreimage({ stream: chunks(), length: data.length + 10, hash })).rejects.toMatchObject({
      code: 'length_mismatch',
    });
  });

  it('maps a documented error body to JamApiError with code, status and details', async () => {
    server = await startFakeServer((_req, res) => sendError(res, 422, 'hash_mismatch', 'body hashes to 0xab', { expected: '0x01' }));
    const client = new JamClient({ baseUrl: server.url });

    const err = await client.putPreimage(new Uint8Array([1])).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(JamApiError);
    expect(err).toMatchObject({ status: 422, code: 'hash_mismatch', message: 'body hashes to 0xab', details: { expected: '0x01' } });
  });

  it('receives a 413 the server sends before reading a large body', async () => {
    server = await startFakeServer(
      (_req, res) => {
        res.setHeader('connection', 'close');
        sendError(res, 413, 'payload_too_large', 'preimage over max_preimage_bytes');
      },
      () => false,
    );
    const client = new JamClient({ baseUrl: server.url });

    const err = await client.putPreimage(new Uint8Array(4 * 1024 * 1024), () => undefined).catch((e: unknown) => e);

    expect(err).toMatchObject({ name: 'JamApiError', status: 413, code: 'payload_too_large' });
  });

  it('gives http_<status> with the body text for a non-JSON error body', async () => {
    server = await startFakeServer((req, res) => {
      if (req.url.pathname === '/healthz') {
        res.writeHead(502, { 'content-type': 'text/html' });
        return void res.end('<html><body>Bad gateway from proxy</body></html>');
      }
      res.writeHead(500);
      res.end();
    });
    const client = new JamClient({ baseUrl: server.url });

    const html = await client.health().catch((e: unknown) => e);
    const empty = await client.getService(1).catch((e: unknown) => e);

    expect(html).toMatchObject({ status: 502, code: 'http_502' });
    expect((html as Error).message).toContain('Bad gateway from proxy');
    expect(empty).toMatchObject({ status: 500, code: 'http_500' });
    expect((empty as Error).message).toContain('empty body');
  });

  it('keeps rate_limited and Retry-After', async () => {
    server = await startFakeServer((_req, res) => {
      res.setHeader('retry-after', '3');
      sendError(res, 429, 'rate_limited', 'slow down');
    });
    const err = await new JamClient({ baseUrl: server.url }).listServices().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 3 });
  });

  it('names the URL and how to start the server when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));

    const err = await new JamClient({ baseUrl: `http://127.0.0.1:${port}` }).health().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(JamNetworkError);
    expect(err).toMatchObject({ code: 'network_error', url: `http://127.0.0.1:${port}/healthz` });
    expect((err as Error).message).toContain(`http://127.0.0.1:${port}/healthz`);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect((err as Error).message).toContain('npm start');
  });

  describe('a kept-alive connection the server closes as the next request goes out', () => {
    /**
     * A gateway that answers the first request of each connection and drops the connection,
     * unanswered, on the second (`drops` times): what a client sees when the server's keep-alive
     * timer closes the socket just as the client reuses it (undici: `UND_ERR_SOCKET other side closed`).
     */
    async function droppingServer(drops: number): Promise<{ requests: () => string[] }> {
      const jam = fakeJam();
      const perSocket = new WeakMap<object, number>();
      let left = drops;
      server = await startFakeServer((req, res) => {
        const socket = res.socket!;
        const n = (perSocket.get(socket) ?? 0) + 1;
        perSocket.set(socket, n);
        if (n === 2 && left > 0) {
          left--;
          socket.destroy();
          return;
        }
        return jam.handler(req, res);
      });
      return { requests: () => server!.requests.map((r) => `${r.method} ${r.url.pathname}`) };
    }
    /** A request, then one turn of the event loop, so undici has put its connection back in the pool for the next request. */
    async function warmConnection(client: JamClient): Promise<void> {
      await client.health();
      await new Promise((resolve) => setImmediate(resolve));
    }

    it('retries an idempotent request once: PUT of a preimage, GET', async () => {
      const s = await droppingServer(2);
      const client = new JamClient({ baseUrl: server!.url });
      const bytes = new TextEncoder().encode('content-addressed, so a second PUT is harmless');
      const hash = toHex(blake2b256(bytes));

      await warmConnection(client);
      expect(await client.putPreimage(bytes)).toEqual({ hash, length: bytes.length, created: true });
      // the retry opened a new connection; its second request is dropped too, and retried
      await new Promise((resolve) => setImmediate(resolve));
      expect(await client.preimageMeta(hash)).toMatchObject({ hash, length: bytes.length });
      expect(s.requests()).toEqual([
        'GET /healthz',
        `PUT /jam/preimages/${hash}`,
        `PUT /jam/preimages/${hash}`,
        `GET /jam/preimages/${hash}/meta`,
        `GET /jam/preimages/${hash}/meta`,
      ]);
    });

    it('retries an upload with progress from its bytes, counting progress again', async () => {
      await droppingServer(1);
      const client = new JamClient({ baseUrl: server!.url });
      const bytes = new Uint8Array(150_000).fill(7);
      const seen: UploadProgress[] = [];
      await warmConnection(client);
      expect((await client.putPreimage(bytes, (p) => seen.push(p))).created).toBe(true);
      expect(seen.at(-1)).toEqual({ sentBytes: bytes.length, totalBytes: bytes.length });
      expect(server!.requests.filter((r) => r.method === 'PUT').map((r) => r.body.length)).toEqual([bytes.length, bytes.length]);
    });

    it('does not retry a POST, nor an upload from a stream it cannot read twice', async () => {
      const s = await droppingServer(2);
      const client = new JamClient({ baseUrl: server!.url });
      const bytes = new TextEncoder().encode('streamed once');
      await warmConnection(client);
      const post = await client.createService({ code_hash: toHex(blake2b256(bytes)) }).catch((e: unknown) => e);
      expect(post).toMatchObject({ name: 'JamNetworkError', code: 'network_error' });
      expect((post as Error).message).toMatch(/other side closed|ECONNRESET/);

      await warmConnection(client);
      const streamed = await client
        .putPreimage({
          hash: toHex(blake2b256(bytes)),
          length: bytes.length,
          stream: (async function* () {
            yield bytes;
          })(),
        })
        .catch((e: unknown) => e);
      expect(streamed).toMatchObject({ name: 'JamNetworkError', code: 'network_error' });
      expect(s.requests().filter((r) => !r.startsWith('GET'))).toEqual(['POST /jam/services', `PUT /jam/preimages/${toHex(blake2b256(bytes))}`]);
    });
  });

  it('times out a request that gets no answer', async () => {
    server = await startFakeServer(() => undefined);
    const err = await new JamClient({ baseUrl: server.url, timeoutMs: 150 }).health().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'JamNetworkError', code: 'timeout' });
  });

  it('rejects preimage bytes that do not hash to the requested hash', async () => {
    server = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('tampered');
    });
    const err = await new JamClient({ baseUrl: server.url }).getPreimage(`0x${'ab'.repeat(32)}`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'response_hash_mismatch' });
  });

  it('checks hash and id arguments before any request', async () => {
    server = await startFakeServer((_req, res) => sendJson(res, 200, {}));
    const client = new JamClient({ baseUrl: server.url });
    await expect(client.getPackage('0x1234')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(client.getService(-1)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(client.getStorage(1, 'words')).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(server.requests).toHaveLength(0);
    expect(() => new JamClient({ baseUrl: 'not a url' })).toThrow(JamClientError);
  });

  it('submits a WorkPackage as GP JSON (u64 beyond 2^53 intact), binary as octet-stream, and dry runs', async () => {
    const jam = fakeJam();
    server = await startFakeServer(jam.handler);
    const client = new JamClient({ baseUrl: server.url });
    const code = await client.putPreimage(new Uint8Array([0, 97, 115, 109]));
    const svc = await client.createService({ code_hash: code.hash });
    const pkg = samplePackage();
    pkg.auth_code_host = svc.id;
    for (const it of pkg.items) it.service = svc.id;

    const dry = await client.submitPackage(pkg, { dryRun: true });
    const sent = server.requests.at(-1);
    const submitted = await client.submitPackage(pkg);
    const again = await client.submitPackage(pkg);

    expect(sent?.url.search).toBe('?dry_run=true');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(workPackageFromJson(parseJamJson(sent?.body.toString('utf8') ?? '')).items[0]?.accumulate_gas_limit).toBe(2n ** 60n);
    expect(dry.problems).toEqual([]);
    expect(submitted).toEqual({ hash: dry.hash, status: 'pending' });
    expect(again.hash).toBe(dry.hash);
    expect(jam.state.packages.size).toBe(1);

    const bin = new Uint8Array([1, 2, 3]);
    const err = await client.submitPackage(bin).catch((e: unknown) => e);
    expect(server.requests.at(-1)?.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.from(server.requests.at(-1)?.body ?? [])).toEqual(Buffer.from(bin));
    expect(err).toMatchObject({ status: 422, code: 'invalid_package' });
  });

  it('passes list filters and storage keys as documented', async () => {
    server = await startFakeServer((req, res) =>
      req.url.pathname.includes('/storage/')
        ? sendJson(res, 200, { service_id: 5, key: '0x776f726473', value: '0x0100000000000000' })
        : sendJson(res, 200, { items: [], next_cursor: null }),
    );
    const client = new JamClient({ baseUrl: server.url });

    await client.listPackages(5, { status: 'failed', limit: 10, cursor: 'abc' });
    await client.listServices({ limit: 2 });
    const entry = await client.getStorage(5, new TextEncoder().encode('words'));

    expect(server.requests.map((r) => `${r.url.pathname}${r.url.search}`)).toEqual([
      '/jam/services/5/packages?status=failed&limit=10&cursor=abc',
      '/jam/services?limit=2',
      '/jam/services/5/storage/0x776f726473',
    ]);
    expect(entry.value).toBe('0x0100000000000000');
  });
});

describe('JamClient.waitForPackage', () => {
  const hash = `0x${'11'.repeat(32)}`;

  function scripted(statuses: (PackageInfo['status'] | 429)[]): Promise<FakeServer> {
    let i = 0;
    return startFakeServer((_req, res) => {
      const s = statuses[Math.min(i++, statuses.length - 1)] as PackageInfo['status'] | 429;
      if (s === 429) {
        res.setHeader('retry-after', '0');
        return sendError(res, 429, 'rate_limited', 'slow down');
      }
      sendJson(res, 200, pkgInfo(hash, s));
    });
  }

  it('reports each status change once and returns at accumulated, riding out a 429', async () => {
    server = await scripted(['pending', 'pending', 'refining', 429, 'attesting', 'attested', 'attested', 'accumulating', 'accumulated']);
    const seen: string[] = [];

    const final = await new JamClient({ baseUrl: server.url }).waitForPackage(hash, { intervalMs: 5, onStatus: (p) => seen.push(p.status) });

    expect(final.status).toBe('accumulated');
    expect(seen).toEqual(['pending', 'refining', 'attesting', 'attested', 'accumulating', 'accumulated']);
  });

  it.each(['failed', 'disputed'] as const)('returns (does not throw) a %s package', async (terminal) => {
    server = await scripted(['pending', terminal, 'accumulated']);
    const final = await new JamClient({ baseUrl: server.url }).waitForPackage(hash, { intervalMs: 5 });
    expect(final.status).toBe(terminal);
    expect(server.requests).toHaveLength(2);
  });

  it('throws wait_timeout naming the last status', async () => {
    server = await scripted(['refining']);
    const err = await new JamClient({ baseUrl: server.url }).waitForPackage(hash, { intervalMs: 10, timeoutMs: 80 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'wait_timeout' });
    expect((err as Error).message).toContain('refining');
  });

  it('throws other API errors at once', async () => {
    server = await startFakeServer((_req, res) => sendError(res, 404, 'not_found', 'no such package'));
    await expect(new JamClient({ baseUrl: server.url }).waitForPackage(hash, { intervalMs: 5 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});

describe('JamClient.followPackage (status stream, polling fallback)', () => {
  const H = `0x${'42'.repeat(32)}`;
  const event = (status: PackageInfo['status']) => `event: status\ndata: ${JSON.stringify(pkgInfo(H, status))}\n\n`;

  /** A server whose stream is written by `stream`; polling answers `polled` (accumulated by default). */
  async function streamServer(stream: (res: import('node:http').ServerResponse) => void, polled: PackageInfo['status'] = 'accumulated'): Promise<FakeServer> {
    return startFakeServer((req, res) => {
      if (req.url.pathname.endsWith('/events')) return stream(res);
      sendJson(res, 200, pkgInfo(H, polled));
    });
  }

  it('returns the terminal status from the stream, reporting each status once', async () => {
    server = await streamServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(event('pending') + event('pending') + ': keep-alive\n\n' + event('refining') + event('accumulated'));
    });
    const seen: string[] = [];
    let fellBack = false;
    const final = await new JamClient({ baseUrl: server.url }).followPackage(H, { onStatus: (p) => seen.push(p.status), onFallback: () => (fellBack = true) });
    expect(final.status).toBe('accumulated');
    expect(seen).toEqual(['pending', 'refining', 'accumulated']);
    expect(fellBack).toBe(false);
    expect(server.requests.map((r) => r.url.pathname)).toEqual([`/jam/packages/${H}/events`]);
  });

  it('falls back to polling when the stream ends before a terminal status, without repeating the last status', async () => {
    server = await streamServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(event('pending') + event('refining'));
    });
    const seen: string[] = [];
    const reasons: string[] = [];
    const final = await new JamClient({ baseUrl: server.url }).followPackage(H, {
      onStatus: (p) => seen.push(p.status),
      onFallback: (e) => reasons.push((e as JamClientError).code),
    });
    expect(final.status).toBe('accumulated');
    expect(seen).toEqual(['pending', 'refining', 'accumulated']);
    expect(reasons).toEqual(['stream_ended']);
  });

  it('falls back when the stream stays silent past idleTimeoutMs, or is not an event stream', async () => {
    server = await streamServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const reasons: string[] = [];
    const client = new JamClient({ baseUrl: server.url });
    expect((await client.followPackage(H, { idleTimeoutMs: 100, onFallback: (e) => reasons.push((e as JamClientError).code) })).status).toBe('accumulated');
    await server.close();
    server = await streamServer((res) => sendJson(res, 200, pkgInfo(H, 'pending')));
    expect((await new JamClient({ baseUrl: server.url }).followPackage(H, { onFallback: (e) => reasons.push((e as JamClientError).code) })).status).toBe(
      'accumulated',
    );
    expect(reasons).toEqual(['timeout', 'invalid_response']);
  });

  it('throws wait_timeout when the package never finishes, and API errors other than a missing route as is', async () => {
    server = await streamServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event('refining'));
      const beat = setInterval(() => res.write(': keep-alive\n\n'), 20);
      res.on('close', () => clearInterval(beat));
    });
    const err = await new JamClient({ baseUrl: server.url }).followPackage(H, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JamClientError);
    expect((err as JamClientError).code).toBe('wait_timeout');
    expect((err as JamClientError).message).toContain('last status: refining');
    await server.close();
    server = await startFakeServer((_req, res) => sendError(res, 403, 'forbidden', 'no'));
    const forbidden = await new JamClient({ baseUrl: server.url }).followPackage(H, { onFallback: () => undefined }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(JamApiError);
    expect(server.requests).toHaveLength(1);
  });
});
