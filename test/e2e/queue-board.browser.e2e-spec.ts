/**
 * The operators' pages in a real browser: headless Chromium (Debian's, through playwright-core;
 * test/support/browser.ts) against a production-mode gateway (PostgreSQL + BullMQ on Redis).
 *
 * The gateway runs alone (`JAM_ROLES=gateway`): no refine worker takes the jobs, so the package this
 * test submits stays `pending` and its refine jobs wait in refine-express-a0.. (a short package)
 * where the board must show them (completed jobs are removed at once, so a job that ran would not
 * be there to see).
 *
 * Each page is one `describe` block: open a browser with or without credentials, load the path,
 * wait for what must be shown. The Swagger UI (`/jam/docs`, no token) is loaded the same way (its own case).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { blake2b256, encodeWorkPackage, initHashing, toHex } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { deleteKeys } from '../support/redis';
import { openBrowser, untilShown, type TestBrowser } from '../support/browser';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A GET from a chosen local address (127.0.0.3 is outside the admin allowlist), with Basic credentials. */
function getFrom(localAddress: string, port: number, p: string, basic: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: p, localAddress, headers: { Authorization: `Basic ${Buffer.from(basic).toString('base64')}` } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('queue board in headless Chromium (production mode, BullMQ on Redis)', () => {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `jam_board_${suffix}`;
  const prefix = `jamboard${suffix}`;
  const tokens = { tenant: `alice-${randomBytes(16).toString('hex')}`, admin: `ops-${randomBytes(16).toString('hex')}` };
  let tmp: string;
  let port: number;
  let base: string;
  let pg: Client;
  let server: JamProcess;
  let pkgHash: string;
  const browsers: TestBrowser[] = [];

  const browser = async (opts: Parameters<typeof openBrowser>[0] = {}) => {
    const b = await openBrowser(opts);
    browsers.push(b);
    return b;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-board-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    pg = new Client({ connectionString: PG_ADMIN_URL });
    await pg.connect();
    await pg.query(`CREATE DATABASE ${dbName}`);
    await initHashing();
    server = await JamProcess.start(
      {
        DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_ROLES: 'gateway',
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_ALLOWED_TOKENS: `alice=${sha256(tokens.tenant)}`,
        JAM_ADMIN_TOKENS: `ops=${sha256(tokens.admin)}`,
        JAM_ADMIN_IP_ALLOWLIST: '127.0.0.1/32',
        // A board page load fetches about 17 scripts, styles and API answers, all on the admin budget.
        JAM_ADMIN_RATE_LIMIT_PER_MINUTE: '100000',
        JAM_AUTH_FAILURE_LIMIT_PER_MINUTE: '100000',
      },
      { port, timeoutMs: 90_000 },
    );
    const code = new Uint8Array(fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm')));
    const codeHash = toHex(blake2b256(code));
    expect((await api(base, tokens.tenant, 'PUT', `/jam/preimages/${codeHash}`, code)).status).toBe(201);
    const svc = await api(base, tokens.tenant, 'POST', '/jam/services', JSON.stringify({ code_hash: codeHash }), { 'Content-Type': 'application/json' });
    expect(svc.status).toBe(201);
    const submitted = await api(
      base,
      tokens.tenant,
      'POST',
      '/jam/packages',
      encodeWorkPackage(wordCountPackage(svc.json.id, blake2b256(code), `board ${suffix}`)),
      {
        'Content-Type': 'application/octet-stream',
      },
    );
    expect(submitted.status).toBe(202);
    pkgHash = submitted.json.hash;
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    for (const b of browsers) await b.close().catch(() => undefined);
    await server?.stop();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await pg?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await pg?.end();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the queues and the waiting refine job of a submitted package to an admin (HTTP Basic, password = admin token)', async () => {
    const b = await browser({ httpCredentials: { username: 'ops', password: tokens.admin } });
    const res = await b.page.goto(`${base}/admin/queues`);
    expect(res?.status()).toBe(200);
    expect(await b.page.title()).toBe('JAM queues');
    for (const q of ['refine-a0', 'refine-express-a0', 'attestation', 'accumulate']) {
      await untilShown(b, server, `queue ${q} on the board`, b.page.getByText(q, { exact: true }).first());
    }
    // The package's refine job for attester 0 waits in refine-express-a0 (a word-count package
    // declares G_A of refine gas: short, docs/fairness.md). Every job carries the package's
    // fair-share priority (docs/fairness.md), so BullMQ lists it as `prioritized`, not `waiting`.
    const jobId = `refine-${pkgHash}-a0`;
    await b.page.goto(`${base}/admin/queues/queue/refine-express-a0?status=prioritized`);
    await untilShown(b, server, `job ${jobId} on the board`, b.page.getByText(jobId, { exact: true }).first());
    // its payload: the package hash and the attester
    await untilShown(b, server, 'the job data', b.page.getByText(`package_hash:"${pkgHash}"`).first());
    // Read-only: the board offers no action on it.
    for (const action of ['Retry', 'Promote', 'Clean', 'Add job']) {
      expect({ action, n: await b.page.getByRole('button', { name: action, exact: true }).count() }).toEqual({ action, n: 0 });
    }
    // The page load was audited for the admin; the scripts and polls were not.
    const audit = await api(base, tokens.admin, 'GET', '/admin/audit?action=queue_board.view');
    expect(audit.json.items.map((e: any) => e.target)).toEqual(['GET /admin/queues/queue/refine-express-a0', 'GET /admin/queues']);
    expect(audit.json.items[0]).toMatchObject({ outcome: 'success', actor_token_hash: `0x${sha256(tokens.admin)}`, details: { principal: 'ops' } });
  });

  it('loads Swagger UI at /jam/docs without a token, rendered from /jam/openapi.json with the routes and both auth schemes', async () => {
    const b = await browser();
    const r = await b.page.goto(`${base}/jam/docs`);
    expect(r?.status()).toBe(200);
    // Swagger UI fetches the document and renders one block per operation: wait for routes of each tag.
    for (const route of ['/jam/packages/{hash}', '/jam/preimages/{hash}', '/jam/attesters', '/admin/audit']) {
      await untilShown(b, server, `operation ${route} in Swagger UI`, b.page.getByText(route, { exact: true }).first());
    }
    await untilShown(b, server, 'the Authorize button (bearer and admin schemes)', b.page.getByRole('button', { name: /authorize/i }).first());
    // what the page rendered is the served document
    const doc = await api(base, undefined, 'GET', '/jam/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.components.securitySchemes).sort()).toEqual(expect.arrayContaining(['admin', 'bearer']));
  });

  it('refuses the board without the admin token: no credential, a tenant token, a wrong password', async () => {
    // A browser challenged for Basic credentials it does not have (or that the server refuses again)
    // gives up the navigation with net::ERR_INVALID_AUTH_CREDENTIALS; a 401 page is the other way to refuse.
    const refused = async (b: TestBrowser, p: string): Promise<string> => {
      try {
        const r = await b.page.goto(`${base}${p}`);
        return r?.status() === 401 ? 'refused' : `answered ${r?.status()}`;
      } catch (err) {
        if (/net::ERR_INVALID_AUTH_CREDENTIALS/.test(String(err))) return 'refused';
        throw err;
      }
    };
    const anonymous = await browser();
    expect(await refused(anonymous, '/admin/queues')).toBe('refused');
    expect(await anonymous.page.getByText('refine-a0').count()).toBe(0);
    for (const password of [tokens.tenant, `${tokens.admin}x`]) {
      const b = await browser({ httpCredentials: { username: 'ops', password } });
      expect(await refused(b, '/admin/queues')).toBe('refused');
      expect(await refused(b, '/admin/queues/api/queues')).toBe('refused');
    }
    // What the browser was told: 401, the admin error shape, a Bearer and a Basic challenge.
    const plain = await api(base, undefined, 'GET', '/admin/queues');
    expect([plain.status, plain.json.error.code, plain.headers.get('www-authenticate')]).toEqual([
      401,
      'unauthorized',
      'Bearer realm="jam-admin", Basic realm="jam-queue-board", charset="UTF-8"',
    ]);
    expect((await api(base, tokens.tenant, 'GET', '/admin/queues/api/queues')).status).toBe(401);
    // The right token from an address outside admin_ip_allowlist: 403, as on every admin route.
    const far = await getFrom('127.0.0.3', port, '/admin/queues', `ops:${tokens.admin}`);
    expect([far.status, JSON.parse(far.body).error.code]).toEqual([403, 'forbidden']);
    // Actions are not routed at all (GET only).
    const put = await api(base, tokens.admin, 'PUT', '/admin/queues/api/queues/pause');
    expect(put.status).toBe(404);
    // Every refusal is in the audit log with the presented token's hash, never the token.
    const denied = await api(base, tokens.admin, 'GET', '/admin/audit?action=admin.auth&limit=100');
    const rows = denied.json.items.filter((e: any) => e.target?.startsWith('GET /admin/queues'));
    expect(rows.map((e: any) => e.details.reason)).toEqual(expect.arrayContaining(['missing', 'unknown_token', 'ip_not_allowed']));
    expect(rows.filter((e: any) => e.details.reason === 'unknown_token').map((e: any) => e.actor_token_hash)).toEqual(
      expect.arrayContaining([`0x${sha256(tokens.tenant)}`, `0x${sha256(`${tokens.admin}x`)}`]),
    );
    expect(denied.text).not.toContain(tokens.admin);
  });
});
