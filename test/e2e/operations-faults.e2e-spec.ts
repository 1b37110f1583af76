/**
 * Issue 11 (operations and faults), found by trying from outside against real processes: one real
 * gateway process in production mode (PostgreSQL behind a TCP proxy the test can cut, Redis under
 * its own prefix, S3 offload to an in-process s3rver) and, for Redis readiness, redis-server
 * processes of the test's own on free ports (the shared PostgreSQL and Redis are never touched
 * beyond the test's database and prefix).
 *
 * Items: 1 aborted S3 downloads must not leak connections; 2 corrupt S3 objects are never served
 * whole; 3 percent-encoded query tokens are refused; 4 a lower-case `bearer` scheme is charged to
 * the token's budget; 5 a database outage answers 503 with Retry-After; 7 per-principal caps on
 * concurrent uploads and stored preimage bytes, with admin overrides; 8 readiness writes to Redis
 * and an evicting Redis is refused at start.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import { startS3TestServer, type S3TestServer } from '../../libs/blob-store/src/testing/s3-test-server';
import { JamProcess, api, freePort } from '../support/jam-server';
import { httpRequest, metricValue } from '../support/raw-http';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

const RATE_LIMIT = 150;
const OFFLOAD_MIN = 64 * 1024;

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const hashOf = (b: Uint8Array) => toHex(blake2b256(b));

/** A TCP proxy to PostgreSQL that the test can cut (refuse and reset everything) and restore. */
class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening (new connections are refused) and resets every open connection. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** GET with node:http, reading the whole body; `complete` is false when the response was cut short. */
function download(port: number, p: string, token: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', reject);
  });
}

/** Starts a GET and destroys the connection as soon as the response headers arrive (a client that gives up). */
function abortedDownload(port: number, p: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      req.destroy();
      resolve(status);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

/** Opens a PUT that declares `declared` bytes, sends 10 of them and then stalls; `close()` ends it. */
async function stalledUpload(port: number, hash: string, token: string, declared: number): Promise<{ close(): void; closed: Promise<void> }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.write(`PUT /jam/preimages/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${declared}\r\n\r\n`);
  socket.write(Buffer.alloc(10, 1));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { close: () => socket.destroy(), closed };
}

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await attempt();
    if (r !== undefined) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe('operations and faults (issue 11) against a production-mode gateway', () => {
  const suffix = randomBytes(4).toString('hex');
  const testRedis = createTestRedis('ops');
  const prefix = testRedis.prefix;
  const tokens = {
    alice: `alice-${randomBytes(16).toString('hex')}`,
    bob: `bob-${randomBytes(16).toString('hex')}`,
    carol: `carol-${randomBytes(16).toString('hex')}`,
    lower: `lower-${randomBytes(16).toString('hex')}`,
  };
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let db: TestDatabase | undefined;
  let s3: S3TestServer;
  let proxy: CuttableProxy;
  let jam: JamProcess;
  let port: number;
  let base: string;

  beforeAll(async () => {
    await initHashing();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-ops-'));
    db = await createTestDatabase('ops');
    s3 = await startS3TestServer(`jam-ops-${suffix}`);
    proxy = new CuttableProxy(await freePort(), { host: '127.0.0.1', port: 5432 });
    await proxy.open();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    jam = await JamProcess.start(
      {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/${db.name}`,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_ROLES: 'gateway',
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_BLOB_DIR: path.join(tmp, 'blobs'),
        JAM_BLOB_STORE: 's3-offload',
        JAM_S3_ENDPOINT: s3.endpoint,
        JAM_S3_BUCKET: s3.bucket,
        JAM_S3_ACCESS_KEY_ID: 'S3RVER',
        JAM_S3_SECRET_ACCESS_KEY: 'S3RVER',
        JAM_S3_OFFLOAD_MIN_BYTES: String(OFFLOAD_MIN),
        JAM_S3_TIMEOUT_MS: '3000',
        JAM_ALLOWED_TOKENS: Object.entries(tokens)
          .map(([p, t]) => `${p}=${sha256(t)}`)
          .join(','),
        JAM_ADMIN_TOKENS: `ops=${sha256(adminToken)}`,
        JAM_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
        JAM_MAX_CONCURRENT_UPLOADS: '2',
        JAM_MAX_STORED_PREIMAGE_BYTES: String(64 * 1024 * 1024),
        JAM_BODY_IDLE_TIMEOUT_MS: '300000',
      },
      { port, timeoutMs: 90_000 },
    );
  }, 150_000);

  afterAll(async () => {
    await jam?.stop();
    await proxy?.cut();
    await s3?.close();
    await testRedis.cleanup();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const metric = async (name: string, labels?: Record<string, string>) => {
    const text = (await api(base, undefined, 'GET', '/metrics')).text;
    if (labels !== undefined) return metricValue(text, name, labels);
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? 0 : Number(line.slice(name.length + 1));
  };

  it('item 1: client-aborted downloads of an S3 preimage do not exhaust the S3 connection pool', async () => {
    // Large enough that the response cannot fit into the socket buffers: each download is cut mid-stream.
    const blob = randomBytes(16 * 1024 * 1024);
    const hash = hashOf(blob);
    const put = await api(base, tokens.alice, 'PUT', `/jam/preimages/${hash}`, blob);
    expect(put.status).toBe(201);
    expect((await api(base, tokens.alice, 'GET', `/jam/preimages/${hash}/meta`)).json.storage_tier).toBe('s3');
    // The AWS SDK pools 50 sockets per host: more aborted downloads than that.
    for (let i = 0; i < 60; i++) expect(await abortedDownload(port, `/jam/preimages/${hash}`, tokens.alice)).toBe(200);
    const full = await download(port, `/jam/preimages/${hash}`, tokens.alice);
    expect(full.status).toBe(200);
    expect(full.complete).toBe(true);
    expect(hashOf(full.body)).toBe(hash);
    const ready = await api(base, undefined, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks.blob_store).toBe('ok');
  }, 240_000);

  it('item 2: a corrupted S3 object is never served whole: the download aborts, the preimage is marked, counted, and a re-upload repairs it', async () => {
    const blob = randomBytes(200 * 1024);
    const hash = hashOf(blob);
    expect((await api(base, tokens.alice, 'PUT', `/jam/preimages/${hash}`, blob)).status).toBe(201);
    // Same length, other bytes, written behind the store's back.
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 0xff;
    await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: `jam/blobs/${hash}`, Body: tampered, ContentLength: tampered.length }));
    const before = await metric('jam_blobs_corrupt_total');

    const got = await download(port, `/jam/preimages/${hash}`, tokens.alice);
    expect(got.status).toBe(200);
    expect(Number(got.headers['content-length'])).toBe(blob.length);
    // Cut before its last chunk: the client never holds Content-Length bytes of a corrupt body.
    expect(got.complete).toBe(false);
    expect(got.body.length).toBeLessThan(blob.length);

    const meta = await eventually('the corrupt mark', async () => {
      const m = await api(base, tokens.alice, 'GET', `/jam/preimages/${hash}/meta`);
      return m.json.corrupt_at !== null ? m.json : undefined;
    });
    expect(typeof meta.corrupt_at).toBe('string');
    expect(await metric('jam_blobs_corrupt_total')).toBe(before + 1);

    // A verified upload of the right bytes replaces the object and clears the mark.
    expect((await api(base, tokens.alice, 'PUT', `/jam/preimages/${hash}`, blob)).status).toBe(200);
    expect((await api(base, tokens.alice, 'GET', `/jam/preimages/${hash}/meta`)).json.corrupt_at).toBeNull();
    const again = await download(port, `/jam/preimages/${hash}`, tokens.alice);
    expect(again.complete).toBe(true);
    expect(Buffer.compare(again.body, blob)).toBe(0);
  }, 120_000);

  it('item 3: a token in the query string is refused however it is spelled or percent-encoded, on /jam and /admin', async () => {
    const spellings = ['access%5Ftoken', '%61ccess_token', 'ACCESS_TOKEN', 'Access%5FToken', 'access-token', '%74oken'];
    for (const name of spellings) {
      const r = await api(base, undefined, 'GET', `/jam/services?${name}=${tokens.alice}`);
      expect({ name, status: r.status, code: r.json?.error?.code }).toEqual({ name, status: 400, code: 'invalid_request' });
      const a = await api(base, undefined, 'GET', `/admin/quotas?${name}=${adminToken}`);
      expect({ name, status: a.status, code: a.json?.error?.code }).toEqual({ name, status: 400, code: 'invalid_request' });
    }
    // Even next to a valid header: a request that carries a token in its URL is refused.
    expect((await api(base, tokens.alice, 'GET', `/jam/services?%61ccess_token=${tokens.alice}`)).status).toBe(400);
    // Other parameters are untouched.
    expect((await api(base, tokens.alice, 'GET', '/jam/services?limit=5')).status).toBe(200);
  });

  it('item 4: a lower-case "bearer" scheme authenticates and is charged to the token budget, not the client IP', async () => {
    const results = [];
    for (let i = 0; i < RATE_LIMIT + 5; i++) {
      results.push(await httpRequest(port, 'GET', '/jam/services', { headers: { Authorization: `bearer ${tokens.lower}` }, localAddress: '127.0.0.31' }));
    }
    expect(results.filter((r) => r.status === 200)).toHaveLength(RATE_LIMIT);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(5);
    for (const r of limited) expect(r.json.error.details.scope).toBe('token');
    // The same token in canonical spelling shares that spent budget...
    const canonical = await httpRequest(port, 'GET', '/jam/services', { headers: { Authorization: `Bearer ${tokens.lower}` }, localAddress: '127.0.0.32' });
    expect(canonical.status).toBe(429);
    expect(canonical.json.error.details.scope).toBe('token');
    // ...while the client IP's own budget was not touched.
    const anonymous = await httpRequest(port, 'GET', '/jam/services', { localAddress: '127.0.0.31' });
    expect(anonymous.status).toBe(401);
  }, 120_000);

  it('item 7: one principal may hold at most max_concurrent_uploads uploads; others are unaffected; a finished upload frees its slot', async () => {
    const held = [];
    for (let i = 0; i < 2; i++) {
      held.push(await stalledUpload(port, `0x${randomBytes(32).toString('hex')}`, tokens.carol, 1000));
      // Each stalled upload holds its slot once its handler runs: wait for that before the next request.
      await eventually(`stalled upload ${i + 1} in flight`, async () => ((await metric('jam_preimage_uploads_in_flight')) === i + 1 ? true : undefined));
    }
    const small = () => {
      const b = randomBytes(100);
      return { b, h: hashOf(b) };
    };
    const third = small();
    const refused = await api(base, tokens.carol, 'PUT', `/jam/preimages/${third.h}`, third.b);
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('quota_exceeded');
    expect(refused.json.error.details).toMatchObject({ quota: 'max_concurrent_uploads', limit: 2 });
    const bobUpload = small();
    expect((await api(base, tokens.bob, 'PUT', `/jam/preimages/${bobUpload.h}`, bobUpload.b)).status).toBe(201);
    expect(await metric('jam_quota_rejected_total', { quota: 'max_concurrent_uploads' })).toBeGreaterThanOrEqual(1);

    held[0]!.close();
    await held[0]!.closed;
    await eventually('a freed upload slot', async () => {
      const { b, h } = small();
      const r = await api(base, tokens.carol, 'PUT', `/jam/preimages/${h}`, b);
      return r.status === 201 ? r : undefined;
    });
    held[1]!.close();
    await held[1]!.closed;
  }, 120_000);

  it('item 7: stored preimage bytes are capped per principal (413 with the limit), re-uploads are free, and an admin override raises the cap', async () => {
    const setQuota = (body: unknown) => api(base, adminToken, 'PUT', '/admin/quotas/carol', JSON.stringify(body), { 'Content-Type': 'application/json' });
    const q = await setQuota({ max_stored_preimage_bytes: 100_000 });
    expect(q.status).toBe(200);
    expect(q.json).toMatchObject({ principal: 'carol', max_stored_preimage_bytes: 100_000, max_concurrent_uploads: null, max_pending_packages: null });
    // carol stores at most a few 100-byte preimages from the test above: 60,000 bytes fit, twice do not.
    const first = randomBytes(60_000);
    expect((await api(base, tokens.carol, 'PUT', `/jam/preimages/${hashOf(first)}`, first)).status).toBe(201);
    const second = randomBytes(60_000);
    const refused = await api(base, tokens.carol, 'PUT', `/jam/preimages/${hashOf(second)}`, second);
    expect(refused.status).toBe(413);
    expect(refused.json.error.code).toBe('storage_quota_exceeded');
    expect(refused.json.error.details).toMatchObject({ quota: 'max_stored_preimage_bytes', limit_bytes: 100_000, upload_bytes: 60_000 });
    expect(refused.json.error.details.stored_bytes).toBeGreaterThanOrEqual(60_000);
    expect((await api(base, tokens.carol, 'GET', `/jam/preimages/${hashOf(second)}/meta`)).status).toBe(404);
    // A streamed body without Content-Length is cut at the remaining room.
    const streamed = await api(
      base,
      tokens.carol,
      'PUT',
      `/jam/preimages/${hashOf(second)}`,
      (async function* () {
        for (let i = 0; i < 6; i++) yield second.subarray(i * 10_000, (i + 1) * 10_000);
      })(),
    ).catch(() => ({ status: 0, json: undefined as any }));
    // Either the 413 arrives, or the server closed the connection while the client was still sending.
    expect([413, 0]).toContain(streamed.status);
    if (streamed.status === 413) expect(streamed.json.error.code).toBe('storage_quota_exceeded');
    expect((await api(base, tokens.carol, 'GET', `/jam/preimages/${hashOf(second)}/meta`)).status).toBe(404);
    // Re-uploading what carol already stores costs nothing.
    expect((await api(base, tokens.carol, 'PUT', `/jam/preimages/${hashOf(first)}`, first)).status).toBe(200);
    expect(await metric('jam_quota_rejected_total', { quota: 'max_stored_preimage_bytes' })).toBeGreaterThanOrEqual(1);

    expect((await setQuota({ max_stored_preimage_bytes: 200_000 })).status).toBe(200);
    expect((await api(base, tokens.carol, 'PUT', `/jam/preimages/${hashOf(second)}`, second)).status).toBe(201);
    // Fields left out keep their value; the list shows the defaults.
    expect((await setQuota({ max_pending_packages: 7 })).json).toMatchObject({ max_pending_packages: 7, max_stored_preimage_bytes: 200_000 });
    const list = await api(base, adminToken, 'GET', '/admin/quotas');
    expect(list.json).toMatchObject({ default_max_concurrent_uploads: 2, default_max_stored_preimage_bytes: 64 * 1024 * 1024 });
    expect((await setQuota({})).status).toBe(400);
  }, 120_000);

  it('item 5: a database outage answers 503 dependency_unavailable with Retry-After, counted and seen by /readyz, and recovers', async () => {
    expect((await api(base, tokens.alice, 'GET', '/jam/services')).status).toBe(200);
    await proxy.cut();
    try {
      const r = await api(base, tokens.alice, 'GET', '/jam/services');
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('dependency_unavailable');
      expect(r.json.error.details.dependency).toBe('database');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const blob = randomBytes(100);
      const up = await api(base, tokens.bob, 'PUT', `/jam/preimages/${hashOf(blob)}`, blob);
      expect(up.status).toBe(503);
      const ready = await api(base, undefined, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.checks.database).toMatch(/^error: /);
      const metrics = (await api(base, undefined, 'GET', '/metrics')).text;
      expect(metricValue(metrics, 'jam_dependency_unavailable_total', { dependency: 'database' })).toBeGreaterThanOrEqual(2);
      expect(metricValue(metrics, 'jam_readiness', { check: 'database' })).toBe(0);
      expect(metricValue(metrics, 'jam_http_requests_total', { route: '/jam/services', method: 'GET', status: '500' })).toBe(0);
    } finally {
      await proxy.open();
    }
    await eventually('the database to answer again', async () => {
      const r = await api(base, tokens.alice, 'GET', '/jam/services');
      return r.status === 200 ? r : undefined;
    });
    expect((await api(base, undefined, 'GET', '/readyz')).status).toBe(200);
  }, 120_000);
});

/** A redis-server of the test's own on a free port (never the shared one). */
async function startRedis(args: string[]): Promise<{ url: string; port: number; client: Redis; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
    stdio: 'ignore',
  });
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  await eventually(
    'redis-server to start',
    async () => {
      try {
        if (client.status === 'wait') await client.connect();
        return (await client.ping()) === 'PONG' ? true : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client,
    stop: async () => {
      client.disconnect();
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

describe('Redis readiness and eviction policy (issue 11 item 8), on redis-servers of the test', () => {
  const token = `t-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-ops8-'));
    db = await createTestDatabase('ops8');
  });

  afterAll(async () => {
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const env = (redisUrl: string, port: number) => ({
    DATABASE_URL: db!.url,
    REDIS_URL: redisUrl,
    JAM_ROLES: 'gateway',
    JAM_PORT: String(port),
    JAM_DATA_DIR: path.join(tmp, 'data'),
    JAM_BLOB_DIR: path.join(tmp, 'blobs'),
    JAM_ALLOWED_TOKENS: `t=${sha256(token)}`,
  });

  it('/readyz fails the queue check while Redis refuses writes, and passes again when it accepts them', async () => {
    const r = await startRedis(['--maxmemory-policy', 'noeviction']);
    const port = await freePort();
    let jam: JamProcess | undefined;
    try {
      jam = await JamProcess.start(env(r.url, port), { port, timeoutMs: 90_000 });
      const base = `http://127.0.0.1:${port}`;
      expect((await api(base, undefined, 'GET', '/readyz')).status).toBe(200);
      // Over maxmemory under noeviction: reads still work, every write is refused with OOM.
      await r.client.config('SET', 'maxmemory', '1');
      const notReady = await api(base, undefined, 'GET', '/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.json.checks.queue).toMatch(/OOM/);
      expect(notReady.json.checks.database).toBe('ok');
      expect(metricValue((await api(base, undefined, 'GET', '/metrics')).text, 'jam_readiness', { check: 'queue' })).toBe(0);
      await r.client.config('SET', 'maxmemory', '0');
      expect((await api(base, undefined, 'GET', '/readyz')).status).toBe(200);
      // A policy changed at runtime is seen too.
      await r.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const evicting = await api(base, undefined, 'GET', '/readyz');
      expect(evicting.status).toBe(503);
      expect(evicting.json.checks.queue).toMatch(/allkeys-lru/);
    } finally {
      await jam?.stop();
      await r.stop();
    }
  }, 150_000);

  it('refuses to start on a Redis whose maxmemory-policy evicts keys, naming the policy and the fix', async () => {
    const r = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    const port = await freePort();
    try {
      const jam = await JamProcess.start(env(r.url, port));
      const code = await jam.waitExit(90_000);
      expect(code).toBe(1);
      const out = jam.output.join('');
      expect(out).toMatch(/maxmemory-policy is "allkeys-lru", not "noeviction"/);
      expect(out).toMatch(/CONFIG SET maxmemory-policy noeviction/);
    } finally {
      await r.stop();
    }
  }, 120_000);
});
