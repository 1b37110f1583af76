/**
 * Rate limits held across gateway replicas (threat model "DoS / Resource Exhaustion", docs/architecture.md
 * section 9): two real gateway processes in production mode on one PostgreSQL database and one
 * Redis prefix share every budget; embedded mode limits in memory. Also the per-principal
 * `max_pending_packages` quota. Distinct client IPs come from binding 127.0.0.x source addresses.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { blake2b256, encodeWorkPackage, initHashing, toHex } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort } from '../support/jam-server';
import { httpRequest, metricValue } from '../support/raw-http';
import { wordCountPackage } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const LIMIT = 20;
const ADMIN_LIMIT = 5;
const AUTH_FAILURE_LIMIT = 6;

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

describe('rate limits across two gateway replicas (production mode)', () => {
  const testRedis = createTestRedis('rl');
  const prefix = testRedis.prefix;
  const tokens = {
    burst: `burst-${randomBytes(16).toString('hex')}`,
    other: `other-${randomBytes(16).toString('hex')}`,
    quota: `quota-${randomBytes(16).toString('hex')}`,
  };
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let db: TestDatabase | undefined;
  let redis: Redis;
  const ports: number[] = [];
  const procs: JamProcess[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-rl-'));
    db = await createTestDatabase('rl');
    redis = testRedis.client;
    await initHashing();
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      // Sequential: the first runs the migrations.
      procs.push(
        await JamProcess.start(
          {
            DATABASE_URL: db.url,
            REDIS_URL,
            JAM_QUEUE_PREFIX: prefix,
            JAM_ROLES: 'gateway',
            JAM_PORT: String(port),
            JAM_DATA_DIR: path.join(tmp, 'data'),
            JAM_BLOB_DIR: path.join(tmp, 'blobs'),
            JAM_ALLOWED_TOKENS: Object.entries(tokens)
              .map(([p, t]) => `${p}=${sha256(t)}`)
              .join(','),
            JAM_ADMIN_TOKENS: `ops=${sha256(adminToken)}`,
            JAM_ADMIN_IP_ALLOWLIST: '127.0.0.0/8',
            JAM_RATE_LIMIT_PER_MINUTE: String(LIMIT),
            JAM_ADMIN_RATE_LIMIT_PER_MINUTE: String(ADMIN_LIMIT),
            JAM_AUTH_FAILURE_LIMIT_PER_MINUTE: String(AUTH_FAILURE_LIMIT),
            JAM_MAX_PENDING_PACKAGES: '2',
          },
          { port, timeoutMs: 60_000 },
        ),
      );
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await testRedis.cleanup();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds a burst split across both replicas to one budget, with Retry-After and the JSON shape', async () => {
    const n = 3 * LIMIT;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        httpRequest(ports[i % 2]!, 'GET', '/jam/services', { headers: { Authorization: `Bearer ${tokens.burst}` }, localAddress: '127.0.0.11' }),
      ),
    );
    const accepted = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(accepted.length + limited.length).toBe(n);
    // Budget held across replicas: exactly the limit (one atomic Redis script per request).
    expect(accepted.length).toBe(LIMIT);
    for (const r of limited) {
      expect(r.json.error.code).toBe('rate_limited');
      expect(r.json.error.details.scope).toBe('token');
      const retryAfter = Number(r.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    const counted = (
      await Promise.all(
        ports.map(async (p) =>
          metricValue((await api(`http://127.0.0.1:${p}`, undefined, 'GET', '/metrics')).text, 'jam_rate_limited_total', { scope: 'token' }),
        ),
      )
    ).reduce((a, b) => a + b, 0);
    expect(counted).toBe(n - LIMIT);
    // The Redis key carries the short token hash, never the token.
    const keys = await scanKeys(redis, `${prefix}:rl:*`);
    expect(keys).toContain(`${prefix}:rl:token:t:${sha256(tokens.burst).slice(0, 12)}`);
    expect(keys.some((k) => k.includes(tokens.burst))).toBe(false);
    // Another token still has its whole budget; probes are exempt.
    expect((await httpRequest(ports[0]!, 'GET', '/jam/services', { headers: { Authorization: `Bearer ${tokens.other}` } })).status).toBe(200);
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await httpRequest(ports[1]!, 'GET', p, { localAddress: '127.0.0.11' })).status).toBe(200);
  });

  it('refuses a rate-limited upload before its body (Expect: 100-continue gets 429, not 100)', async () => {
    const r = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = http.request({
        host: '127.0.0.1',
        port: ports[1],
        method: 'PUT',
        path: `/jam/preimages/0x${'11'.repeat(32)}`,
        headers: { Authorization: `Bearer ${tokens.burst}`, 'Content-Length': '1000', Expect: '100-continue' },
      });
      req.on('continue', () => (continued = true));
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued, body }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(r).toMatchObject({ status: 429, continued: false });
    expect(JSON.parse(r.body).error.code).toBe('rate_limited');
  });

  it('throttles token guessing per client IP, without locking out a valid token from that IP', async () => {
    const statuses: number[] = [];
    const scopes: string[] = [];
    for (let i = 0; i < AUTH_FAILURE_LIMIT + 4; i++) {
      const r = await httpRequest(ports[i % 2]!, 'GET', '/jam/services', {
        headers: { Authorization: `Bearer guess-${randomBytes(12).toString('hex')}` },
        localAddress: '127.0.0.12',
      });
      statuses.push(r.status);
      if (r.status === 429) scopes.push(r.json.error.details.scope);
    }
    expect(statuses.slice(0, AUTH_FAILURE_LIMIT)).toEqual(Array(AUTH_FAILURE_LIMIT).fill(401));
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
    expect(new Set(scopes)).toEqual(new Set(['auth_failure']));
    // No token at all from that IP: also throttled. A valid token from it: served.
    expect((await httpRequest(ports[0]!, 'GET', '/jam/services', { localAddress: '127.0.0.12' })).status).toBe(429);
    expect(
      (await httpRequest(ports[0]!, 'GET', '/jam/services', { headers: { Authorization: `Bearer ${tokens.other}` }, localAddress: '127.0.0.12' })).status,
    ).toBe(200);
    // A different IP is unaffected.
    expect((await httpRequest(ports[1]!, 'GET', '/jam/services', { localAddress: '127.0.0.13' })).status).toBe(401);
  });

  it('gives /admin/* its own budget, shared across replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < ADMIN_LIMIT + 3; i++) {
      const r = await httpRequest(ports[i % 2]!, 'GET', '/admin/audit', { headers: { Authorization: `Bearer ${adminToken}` }, localAddress: '127.0.0.14' });
      statuses.push(r.status);
      if (r.status === 429) expect(r.json.error.details.scope).toBe('admin');
    }
    expect(statuses.slice(0, ADMIN_LIMIT).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(ADMIN_LIMIT)).toEqual([429, 429, 429]);
    // Made-up tokens do not each get a budget: they share their IP's admin budget.
    const guesses: number[] = [];
    for (let i = 0; i < ADMIN_LIMIT + 2; i++) {
      guesses.push(
        (
          await httpRequest(ports[i % 2]!, 'GET', '/admin/audit', {
            headers: { Authorization: `Bearer made-up-${i}-${randomBytes(8).toString('hex')}` },
            localAddress: '127.0.0.15',
          })
        ).status,
      );
    }
    expect(guesses.slice(0, ADMIN_LIMIT).every((s) => s !== 429)).toBe(true);
    expect(guesses.slice(ADMIN_LIMIT)).toEqual([429, 429]);
    // The admin budget is not the tenant budget: the same IP's tenant traffic is unaffected.
    expect(
      (await httpRequest(ports[0]!, 'GET', '/jam/services', { headers: { Authorization: `Bearer ${tokens.other}` }, localAddress: '127.0.0.14' })).status,
    ).toBe(200);
  });

  it('refuses a principal past max_pending_packages with 429 quota_exceeded', async () => {
    const base = `http://127.0.0.1:${ports[0]}`;
    const code = fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm'));
    const codeHash = blake2b256(new Uint8Array(code));
    expect((await api(base, tokens.quota, 'PUT', `/jam/preimages/${toHex(codeHash)}`, new Uint8Array(code))).status).toBe(201);
    const svc = await api(base, tokens.quota, 'POST', '/jam/services', JSON.stringify({ code_hash: toHex(codeHash) }), { 'Content-Type': 'application/json' });
    expect(svc.status).toBe(201);
    const submit = (text: string, port: number) =>
      api(`http://127.0.0.1:${port}`, tokens.quota, 'POST', '/jam/packages', encodeWorkPackage(wordCountPackage(svc.json.id, codeHash, text)), {
        'Content-Type': 'application/octet-stream',
      });
    expect((await submit('one', ports[0]!)).status).toBe(202);
    expect((await submit('two', ports[1]!)).status).toBe(202);
    const third = await submit('three', ports[0]!);
    expect(third.status).toBe(429);
    expect(third.json.error.code).toBe('quota_exceeded');
    // Resubmitting a package already accepted is idempotent, not a new one.
    expect((await submit('one', ports[1]!)).status).toBe(202);
    const metrics = (await api(base, undefined, 'GET', '/metrics')).text;
    expect(metricValue(metrics, 'jam_quota_rejected_total', { quota: 'max_pending_packages' })).toBe(1);
  });
});

describe('rate limits in embedded mode (in memory, one process)', () => {
  let dataDir: string;
  let port: number;
  let server: JamProcess;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-rl-embedded-'));
    port = await freePort();
    server = await JamProcess.start(
      { JAM_DATA_DIR: dataDir, JAM_PORT: String(port), JAM_AUTH_REQUIRED: 'false', JAM_RATE_LIMIT_PER_MINUTE: '5' },
      { port, timeoutMs: 90_000 },
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('limits anonymous traffic per client IP', async () => {
    const a = await Promise.all(Array.from({ length: 8 }, () => httpRequest(port, 'GET', '/jam/services', { localAddress: '127.0.0.21' })));
    expect(a.filter((r) => r.status === 200).length).toBe(5);
    const limited = a.filter((r) => r.status === 429);
    expect(limited.length).toBe(3);
    expect(limited[0]!.json.error).toMatchObject({ code: 'rate_limited', details: { scope: 'ip' } });
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another client address has its own budget.
    expect((await httpRequest(port, 'GET', '/jam/services', { localAddress: '127.0.0.22' })).status).toBe(200);
  });
});
