/**
 * Authorization, proven over HTTP against one real server process (PostgreSQL + Redis, every
 * role): the matrix of every registered route x {no token, bad token, other tenant, delegate,
 * owner, admin token} (an admin route seen by a /jam token is the owner/delegate/other column),
 * generated from the routes Nest actually registers, so a new route without a rule fails here.
 * Also: query-string tokens, HEAD/OPTIONS, X-Forwarded-For and the admin allowlist, dispute
 * resolution, delegates, quotas and the audit log.
 *
 * The server runs 3 attesters with threshold 3 but serves only attesters 0 and 1: packages get
 * real signed reports but never reach the threshold, so the test can mark one `disputed` and
 * resolve it through the admin API, which is what makes it accumulate.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { Client } from 'pg';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { blake2b256, encodeWorkPackage, initHashing, packageHash, toHex } from '@jam/domain';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import type { GatewayDeps } from '../../apps/gateway/src/gateway.deps';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort, untilProgress } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const token = (name: string) => `${name}-${randomBytes(16).toString('hex')}`;

type Actor = 'none' | 'bad' | 'other' | 'delegate' | 'owner' | 'admin';
const ACTORS: Actor[] = ['none', 'bad', 'other', 'delegate', 'owner', 'admin'];

/** Every route Nest registered (method + express path), read from a gateway built in this process. */
async function registeredRoutes(): Promise<string[]> {
  const stub = { tokenDigests: new Map(), adminTokenDigests: new Map(), trustedProxies: [], adminIpAllowlist: [] } as unknown as GatewayDeps;
  const app = await NestFactory.create(GatewayModule.forRoot(stub), new ExpressAdapter(), { logger: false, bodyParser: false });
  await app.init();
  const router = (app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string | string[]; methods: Record<string, boolean> } }[] } })
    .router;
  const out: string[] = [];
  for (const layer of router.stack) {
    if (!layer.route) continue;
    for (const p of [layer.route.path].flat()) for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${p}`);
  }
  await app.close();
  return [...new Set(out)].sort();
}

/** One raw HTTP request from a chosen local address (to act as a proxy or an untrusted peer). */
function requestFrom(localAddress: string, port: number, method: string, p: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, localAddress }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The server process of this spec (set in beforeAll). */
let server: JamProcess;

/** Polls `fn` until it returns a value; fails once the server made no progress (output, CPU) for `stallMs`. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, stallMs = 60_000): Promise<T> {
  return untilProgress(what, fn, { progress: () => server.progress(), stallMs, intervalMs: 250, diagnose: () => server.tail() });
}

describe('authorization matrix and admin API (PostgreSQL + Redis, one real process)', () => {
  const suffix = randomBytes(4).toString('hex');
  const testRedis = createTestRedis('authz');
  const prefix = testRedis.prefix;
  const tokens = { owner: token('alice'), delegate: token('dave'), other: token('bob'), admin: token('ops'), bad: token('nobody') };
  let tmp: string;
  let port: number;
  let base: string;
  let database: TestDatabase | undefined;
  let db: Client;
  let routes: string[];
  // Fixtures, all owned by alice: service S (delegate dave) running code C; package K (accumulated
  // through an admin-resolved dispute) and K2 (disputed, then rejected); a private blob Z.
  let codeHash: string;
  let serviceId: number;
  let pkgK: string;
  let pkgK2: string;
  let reportK: string;
  let binK: Uint8Array;

  const tokenOf = (a: Actor): string | undefined => (a === 'none' ? undefined : tokens[a]);
  const call = (a: Actor, method: string, p: string, body?: string | Uint8Array, headers: Record<string, string> = {}) =>
    api(base, tokenOf(a), method, p, body, headers);
  const json = { 'Content-Type': 'application/json' };

  beforeAll(async () => {
    routes = await registeredRoutes();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-authz-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    database = await createTestDatabase('authz');
    await initHashing();
    server = await JamProcess.start(
      {
        DATABASE_URL: database.url,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_ALLOWED_TOKENS: `alice=${sha256(tokens.owner)},dave=${sha256(tokens.delegate)},bob=${sha256(tokens.other)}`,
        JAM_ADMIN_TOKENS: `ops=${sha256(tokens.admin)}`,
        JAM_ADMIN_IP_ALLOWLIST: '127.0.0.1/32,203.0.113.7/32',
        JAM_TRUSTED_PROXIES: '127.0.0.2/32',
        JAM_ATTESTERS: '3',
        JAM_ATTESTATION_THRESHOLD: '3',
        JAM_ATTESTER_INDEXES: '0,1',
        JAM_SANDBOX_POOL_SIZE: '1',
        // The matrix sends hundreds of requests, many refused, from one address: lift the rate limits.
        JAM_RATE_LIMIT_PER_MINUTE: '1000000',
        JAM_ADMIN_RATE_LIMIT_PER_MINUTE: '1000000',
        JAM_AUTH_FAILURE_LIMIT_PER_MINUTE: '1000000',
      },
      { port, timeoutMs: 90_000 },
    );
    db = new Client({ connectionString: database.url });
    await db.connect();

    const code = new Uint8Array(fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm')));
    codeHash = toHex(blake2b256(code));
    expect((await call('owner', 'PUT', `/jam/preimages/${codeHash}`, code)).status).toBe(201);
    const svc = await call('owner', 'POST', '/jam/services', JSON.stringify({ code_hash: codeHash, delegates: ['dave'] }), json);
    expect(svc.status).toBe(201);
    serviceId = svc.json.id;
    const submit = async (text: string) => {
      const bin = encodeWorkPackage(wordCountPackage(serviceId, blake2b256(code), text));
      const r = await call('owner', 'POST', '/jam/packages', bin, { 'Content-Type': 'application/octet-stream' });
      expect(r.status).toBe(202);
      return { hash: r.json.hash as string, bin };
    };
    ({ hash: pkgK, bin: binK } = await submit(`alpha beta beta ${suffix}`));
    ({ hash: pkgK2 } = await submit(`gamma ${suffix}`));
    // Two of three attesters sign each report; wait for both signatures, then mark both disputed
    // (the conflict itself is the attestation processor's business; here we prove the admin hook).
    for (const h of [pkgK, pkgK2]) {
      await until(`two attestations of ${h}`, async () => {
        const r = await call('owner', 'GET', `/jam/reports/${h}`);
        return r.status === 200 && r.json.attestations.length === 2 ? true : undefined;
      });
      await db.query(`UPDATE work_package SET status = 'disputed', error_code = 'conflicting_reports' WHERE hash = $1`, [Buffer.from(h.slice(2), 'hex')]);
    }
    reportK = (await call('owner', 'GET', `/jam/reports/${pkgK}`)).json.report_hash;
    const resolved = await call('admin', 'POST', `/admin/disputes/${pkgK}/resolve`, JSON.stringify({ decision: 'accept', report_hash: reportK }), json);
    expect(resolved.status).toBe(200);
    expect(resolved.json.status).toBe('attested');
    await until('K accumulated', async () => ((await call('owner', 'GET', `/jam/packages/${pkgK}`)).json.status === 'accumulated' ? true : undefined));
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await db?.end();
    await testRedis.cleanup();
    await database?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const signAsAttester0 = (reportHash: string): string => {
    const key = createPrivateKey(fs.readFileSync(path.join(tmp, 'data', 'keys', 'attester-0.pem')));
    const msg = Buffer.concat([Buffer.from('jam_guarantee', 'ascii'), Buffer.from(reportHash.slice(2), 'hex')]);
    return `0x${sign(null, msg, key).toString('hex')}`;
  };

  /** The rule of every route: the request to send and the status each actor must get. */
  type Rule = { path: () => string; body?: () => string | Uint8Array; headers?: Record<string, string>; expect: Record<Actor, number> };
  const PUBLIC = { none: 200, bad: 200, other: 200, delegate: 200, owner: 200, admin: 200 };
  const tenantRead = { none: 401, bad: 401, other: 404, delegate: 200, owner: 200, admin: 200 };
  const adminOnly = (ok: number) => ({ none: 401, bad: 401, other: 401, delegate: 401, owner: 401, admin: ok });
  const freshBlob = new TextEncoder().encode(`matrix upload ${randomBytes(8).toString('hex')}`);
  const RULES: Record<string, Rule> = {
    'GET /healthz': { path: () => '/healthz', expect: PUBLIC },
    'GET /readyz': { path: () => '/readyz', expect: PUBLIC },
    'GET /metrics': { path: () => '/metrics', expect: PUBLIC },
    // The API description is public (README "API reference"): a browser opening Swagger UI sends no token.
    'GET /jam/openapi.json': { path: () => '/jam/openapi.json', expect: PUBLIC },
    'GET /jam/docs': { path: () => '/jam/docs', expect: PUBLIC },
    'GET /jam/docs/:asset': { path: () => '/jam/docs/swagger-ui.css', expect: PUBLIC },
    // A tenant's 201/200 says whether *it* had uploaded the bytes (so each tenant's first upload is 201);
    // an admin sees everything anyway and gets the plain 201 new / 200 already stored.
    'PUT /jam/preimages/:hash': {
      path: () => `/jam/preimages/${toHex(blake2b256(freshBlob))}`,
      body: () => freshBlob,
      expect: { none: 401, bad: 401, other: 201, delegate: 201, owner: 201, admin: 200 },
    },
    'GET /jam/preimages/:hash': { path: () => `/jam/preimages/${codeHash}`, expect: tenantRead },
    'HEAD /jam/preimages/:hash': { path: () => `/jam/preimages/${codeHash}`, expect: tenantRead },
    'GET /jam/preimages/:hash/meta': { path: () => `/jam/preimages/${codeHash}/meta`, expect: tenantRead },
    'POST /jam/services': {
      path: () => '/jam/services',
      body: () => JSON.stringify({ code_hash: codeHash }),
      headers: json,
      expect: { none: 401, bad: 401, other: 422, delegate: 201, owner: 201, admin: 201 },
    },
    'GET /jam/services': { path: () => '/jam/services', expect: { none: 401, bad: 401, other: 200, delegate: 200, owner: 200, admin: 200 } },
    'GET /jam/services/:id': { path: () => `/jam/services/${serviceId}`, expect: tenantRead },
    'GET /jam/services/:id/storage/:key': { path: () => `/jam/services/${serviceId}/storage/0x776f726473`, expect: tenantRead },
    'GET /jam/services/:id/packages': { path: () => `/jam/services/${serviceId}/packages`, expect: tenantRead },
    'POST /jam/packages': {
      path: () => '/jam/packages',
      body: () => binK,
      headers: { 'Content-Type': 'application/octet-stream' },
      expect: { none: 401, bad: 401, other: 422, delegate: 202, owner: 202, admin: 202 },
    },
    'GET /jam/packages/:hash': { path: () => `/jam/packages/${pkgK}`, expect: tenantRead },
    // K is accumulated, so the stream sends its one terminal status and ends.
    'GET /jam/packages/:hash/events': { path: () => `/jam/packages/${pkgK}/events`, expect: tenantRead },
    'GET /jam/reports/:packageHash': { path: () => `/jam/reports/${pkgK}`, expect: tenantRead },
    // The attester set is the same for every tenant: any valid token reads it.
    'GET /jam/attesters': { path: () => '/jam/attesters', expect: { none: 401, bad: 401, other: 200, delegate: 200, owner: 200, admin: 200 } },
    // K is accumulated, not failed: whoever may retry it is told 409; whoever may not see it, 404.
    'POST /jam/packages/:hash/retry': {
      path: () => `/jam/packages/${pkgK}/retry`,
      expect: { none: 401, bad: 401, other: 404, delegate: 409, owner: 409, admin: 409 },
    },
    // A real signature by attester 0 (its key is in the server's data dir); duplicates collapse into one attestation.
    'POST /jam/reports/:reportHash/attestations': {
      path: () => `/jam/reports/${reportK}/attestations`,
      body: () => JSON.stringify({ attester_index: 0, signature: signAsAttester0(reportK) }),
      headers: json,
      expect: { none: 401, bad: 401, other: 404, delegate: 202, owner: 202, admin: 202 },
    },
    'OPTIONS /jam': { path: () => '/jam', expect: { none: 401, bad: 401, other: 204, delegate: 204, owner: 204, admin: 204 } },
    'OPTIONS /jam/*path': { path: () => `/jam/services/${serviceId}`, expect: { none: 401, bad: 401, other: 204, delegate: 204, owner: 204, admin: 204 } },
    'PUT /admin/services/:id/delegates/:principal': { path: () => `/admin/services/${serviceId}/delegates/zed`, expect: adminOnly(200) },
    'DELETE /admin/services/:id/delegates/:principal': { path: () => `/admin/services/${serviceId}/delegates/zed`, expect: adminOnly(200) },
    'GET /admin/quotas': { path: () => '/admin/quotas', expect: adminOnly(200) },
    'PUT /admin/quotas/:principal': { path: () => '/admin/quotas/zed', body: () => '{"max_pending_packages":5}', headers: json, expect: adminOnly(200) },
    'DELETE /admin/quotas/:principal': { path: () => '/admin/quotas/zed', expect: adminOnly(200) },
    'GET /admin/disputes': { path: () => '/admin/disputes', expect: adminOnly(200) },
    // K is accumulated, not disputed: an admin gets past authentication to the 409.
    'POST /admin/disputes/:packageHash/resolve': {
      path: () => `/admin/disputes/${pkgK}/resolve`,
      body: () => '{"decision":"reject"}',
      headers: json,
      expect: adminOnly(409),
    },
    'POST /admin/packages/:packageHash/retry': { path: () => `/admin/packages/${pkgK}/retry`, expect: adminOnly(409) },
    'GET /admin/audit': { path: () => '/admin/audit', expect: adminOnly(200) },
    // The queue board (production mode: BullMQ on Redis): its page and its read API; a 401 challenges Bearer, then Basic.
    'GET /admin/queues': { path: () => '/admin/queues', expect: adminOnly(200) },
    'GET /admin/queues/*path': { path: () => '/admin/queues/api/queues', expect: adminOnly(200) },
    'OPTIONS /admin': { path: () => '/admin', expect: adminOnly(204) },
    'OPTIONS /admin/*path': { path: () => '/admin/audit', expect: adminOnly(204) },
  };

  it('has a rule for every registered route, and no rule without a route', () => {
    expect(routes.length).toBeGreaterThan(20);
    // Express answers HEAD on every GET route through the GET handler: held to the same rule.
    expect(routes.filter((r) => !(r in RULES))).toEqual([]);
    expect(Object.keys(RULES).filter((r) => !routes.includes(r))).toEqual([]);
  });

  it(
    'answers every route x actor with the expected status (HEAD like GET)',
    async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const route of routes) {
        const rule = RULES[route]!;
        const method = route.split(' ')[0]!;
        const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
        for (const m of methods) {
          for (const actor of ACTORS) {
            const r = await call(actor, m, rule.path(), rule.body?.(), rule.headers ?? {});
            got.push(`${m} ${route.slice(method.length + 1)} as ${actor}: ${r.status}`);
            want.push(`${m} ${route.slice(method.length + 1)} as ${actor}: ${rule.expect[actor]}`);
            if (r.status === 401) expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
          }
        }
      }
      expect(got).toEqual(want);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it('hides other tenants entirely: lists, existence of hashes, preimages of second uploaders', async () => {
    const ids = async (a: Actor) => ((await call(a, 'GET', '/jam/services?limit=500')).json.items as { id: number }[]).map((s) => s.id);
    expect(await ids('owner')).toContain(serviceId);
    expect(await ids('delegate')).toContain(serviceId);
    expect(await ids('other')).not.toContain(serviceId);
    expect(await ids('admin')).toContain(serviceId);
    // Not found and not yours read the same.
    const missing = `0x${'ab'.repeat(32)}`;
    const a = await call('other', 'GET', `/jam/packages/${pkgK}`);
    const b = await call('other', 'GET', `/jam/packages/${missing}`);
    expect([a.status, a.json.error.code, a.json.error.message.replace(pkgK, 'H')]).toEqual([
      b.status,
      b.json.error.code,
      b.json.error.message.replace(missing, 'H'),
    ]);
    const other = await call('other', 'POST', '/jam/packages?dry_run=true', binK, { 'Content-Type': 'application/octet-stream' });
    expect(other.json.problems).toEqual([{ path: 'items[0].service', code: 'unknown_service', message: `service ${serviceId} is not registered` }]);
    // A private blob: alice's only. bob uploading the same bytes gets 201 (no hint it existed) and then may read it.
    const z = new TextEncoder().encode(`private ${suffix}`);
    const zh = toHex(blake2b256(z));
    expect((await call('owner', 'PUT', `/jam/preimages/${zh}`, z)).status).toBe(201);
    expect((await call('owner', 'PUT', `/jam/preimages/${zh}`, z)).status).toBe(200);
    expect((await call('other', 'GET', `/jam/preimages/${zh}`)).status).toBe(404);
    expect((await call('delegate', 'HEAD', `/jam/preimages/${zh}`)).status).toBe(404);
    expect((await call('other', 'PUT', `/jam/preimages/${zh}`, z)).status).toBe(201);
    const read = await call('other', 'GET', `/jam/preimages/${zh}`);
    expect([read.status, read.text]).toEqual([200, `private ${suffix}`]);
    expect((await db.query('SELECT principal FROM preimage_uploader WHERE hash = $1 ORDER BY principal', [Buffer.from(zh.slice(2), 'hex')])).rows).toEqual([
      { principal: 'alice' },
      { principal: 'bob' },
    ]);
  });

  it('never accepts a token in the query string', async () => {
    for (const [p, t] of [
      ['/jam/services', tokens.owner],
      ['/admin/audit', tokens.admin],
    ] as const) {
      for (const name of ['access_token', 'token']) {
        const r = await api(base, undefined, 'GET', `${p}?${name}=${t}`);
        expect({ p, name, status: r.status, code: r.json.error.code }).toEqual({ p, name, status: 400, code: 'invalid_request' });
        // Even alongside a valid header the request is refused.
        expect((await api(base, t, 'GET', `${p}?${name}=${t}`)).status).toBe(400);
      }
    }
  });

  it('checks the admin allowlist against the real peer; X-Forwarded-For only from a trusted proxy', async () => {
    const auth = { Authorization: `Bearer ${tokens.admin}` };
    // Untrusted peer 127.0.0.3 forging an allowlisted client address.
    expect((await requestFrom('127.0.0.3', port, 'GET', '/admin/audit', { ...auth, 'X-Forwarded-For': '127.0.0.1' })).status).toBe(403);
    expect((await requestFrom('127.0.0.3', port, 'GET', '/admin/audit', auth)).status).toBe(403);
    // The admin token on /jam is bound by the same allowlist.
    expect((await requestFrom('127.0.0.3', port, 'GET', '/jam/services', { ...auth, 'X-Forwarded-For': '127.0.0.1' })).status).toBe(403);
    // Trusted proxy 127.0.0.2 forwarding an allowlisted client, and a client that is not.
    expect((await requestFrom('127.0.0.2', port, 'GET', '/admin/audit', { ...auth, 'X-Forwarded-For': '203.0.113.7' })).status).toBe(200);
    expect((await requestFrom('127.0.0.2', port, 'GET', '/admin/audit', { ...auth, 'X-Forwarded-For': '198.51.100.1' })).status).toBe(403);
    // A client behind the proxy prepending a forged allowlisted hop gets its real address checked.
    expect((await requestFrom('127.0.0.2', port, 'GET', '/admin/audit', { ...auth, 'X-Forwarded-For': '203.0.113.7, 198.51.100.1' })).status).toBe(403);
    // The allowlisted peer itself.
    expect((await requestFrom('127.0.0.1', port, 'GET', '/admin/audit', auth)).status).toBe(200);
  });

  it('resolves disputes: accept accumulates the chosen report, reject fails the package', async () => {
    const k = await call('owner', 'GET', `/jam/packages/${pkgK}`);
    expect([k.json.status, k.json.report_hash]).toEqual(['accumulated', reportK]);
    expect((await call('owner', 'GET', `/jam/services/${serviceId}/storage/0x776f726473`)).status).toBe(200);
    const list = await call('admin', 'GET', '/admin/disputes');
    expect(list.json.items.map((p: { hash: string }) => p.hash)).toEqual([pkgK2]);
    expect(list.json.items[0].reports[0].signers).toBe(2);
    const bad = await call('admin', 'POST', `/admin/disputes/${pkgK2}/resolve`, JSON.stringify({ decision: 'accept', report_hash: reportK }), json);
    expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_request']);
    const rejected = await call('admin', 'POST', `/admin/disputes/${pkgK2}/resolve`, JSON.stringify({ decision: 'reject', reason: 'operator decision' }), json);
    expect([rejected.status, rejected.json.status, rejected.json.error.code]).toEqual([200, 'failed', 'dispute_rejected']);
    expect((await call('admin', 'GET', '/admin/disputes')).json.items).toEqual([]);
  });

  it('manages delegates and quotas through /admin', async () => {
    expect((await call('other', 'GET', `/jam/services/${serviceId}`)).status).toBe(404);
    expect((await call('admin', 'PUT', `/admin/services/${serviceId}/delegates/bob`)).json.delegates).toEqual(expect.arrayContaining(['dave', 'bob']));
    expect((await call('other', 'GET', `/jam/services/${serviceId}`)).status).toBe(200);
    expect((await call('admin', 'DELETE', `/admin/services/${serviceId}/delegates/bob`)).json.delegates).not.toContain('bob');
    expect((await call('other', 'GET', `/jam/services/${serviceId}`)).status).toBe(404);

    expect((await call('admin', 'PUT', '/admin/quotas/alice', '{"max_pending_packages":0}', json)).json.max_pending_packages).toBe(0);
    const code = new Uint8Array(fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm')));
    const pkg = wordCountPackage(serviceId, blake2b256(code), `quota ${suffix}`);
    const refused = await call('owner', 'POST', '/jam/packages', encodeWorkPackage(pkg), { 'Content-Type': 'application/octet-stream' });
    expect([refused.status, refused.json.error.code, refused.json.error.details.limit]).toEqual([429, 'quota_exceeded', 0]);
    expect((await call('owner', 'GET', `/jam/packages/${toHex(packageHash(pkg))}`)).status).toBe(404);
    expect((await call('admin', 'DELETE', '/admin/quotas/alice')).json).toEqual({ principal: 'alice', removed: true });
  });

  it('audits every admin action and auth failure with the token hash, never the token', async () => {
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const r = await call('admin', 'GET', `/admin/audit?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      for (const t of Object.values(tokens)) expect(r.text).not.toContain(t);
      pages.push(...r.json.items);
      cursor = r.json.next_cursor;
    } while (cursor !== null);
    const ids = pages.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    const adminHash = `0x${sha256(tokens.admin)}`;
    const byAction = (action: string, outcome?: string) => pages.filter((e) => e.action === action && (outcome === undefined || e.outcome === outcome));
    for (const action of ['delegate.add', 'delegate.remove', 'quota.set', 'quota.remove', 'quota.list', 'dispute.list', 'dispute.resolve', 'audit.list']) {
      const rows = byAction(action, 'success');
      expect({ action, n: rows.length > 0 }).toEqual({ action, n: true });
      for (const e of rows) expect([e.actor_token_hash, e.details.principal, e.details.client]).toEqual([adminHash, 'ops', expect.any(String)]);
    }
    // The failed resolve (409) and the bad accept are recorded as failures.
    expect(byAction('dispute.resolve', 'failure').map((e) => e.details.error)).toEqual(expect.arrayContaining(['conflict', 'invalid_request']));
    expect(byAction('dispute.resolve', 'success').map((e) => e.target)).toEqual(
      expect.arrayContaining([`POST /admin/disputes/${pkgK}/resolve`, `POST /admin/disputes/${pkgK2}/resolve`]),
    );
    // Auth failures: a /jam token on /admin (its hash, not the token), a bad token, no token, a refused address.
    const denied = byAction('admin.auth', 'denied');
    expect(denied.filter((e) => e.details.reason === 'unknown_token').map((e) => e.actor_token_hash)).toEqual(
      expect.arrayContaining([`0x${sha256(tokens.owner)}`, `0x${sha256(tokens.bad)}`]),
    );
    expect(denied.some((e) => e.details.reason === 'missing' && e.actor_token_hash === null)).toBe(true);
    expect(denied.filter((e) => e.details.reason === 'ip_not_allowed').map((e) => e.details.client)).toEqual(
      expect.arrayContaining(['127.0.0.3', '198.51.100.1']),
    );
    expect(denied.some((e) => e.details.reason === 'token_in_query')).toBe(true);
    // Admin tokens used on /jam are audited too, allowed or not.
    expect(byAction('jam.admin_access', 'allowed').length).toBeGreaterThan(0);
    expect(byAction('jam.admin_access', 'denied').map((e) => e.details.client)).toContain('127.0.0.3');
    // The filter and the paging.
    const two = await call('admin', 'GET', '/admin/audit?limit=2&action=delegate.add');
    expect(two.json.items.every((e: { action: string }) => e.action === 'delegate.add')).toBe(true);
  });
});
