/**
 * Fair sharing between tenants (issue 7 part 4, docs/fairness.md): tenant B's submit-to-accumulated
 * latency on an idle server, then while tenant A floods it with CPU-heavy but legal packages.
 *
 * Starts a real embedded server (`dist/apps/standalone/src/main.js`: PGlite, in-process queue, one
 * process) in a temp data dir with two principals, `alice` (A) and `bob` (B). A registers the
 * `spin` service (bench/workloads/spin.as) and submits `--flood` packages whose refine spins
 * 65,536 xorshift rounds per payload byte (`--heavy-bytes`; ok results, within G_R); B registers `word-count` and submits `--quiet`
 * small packages, one every `--gap-ms`, first on the idle server, then right after A's flood was
 * accepted. Latency = from just before B's POST to the package's `accumulated_at` (same host
 * clock). The flood must still be unfinished when B submits its last package, else the phase
 * measured nothing: the bench prints A's backlog then (and when B is done) and fails if it is 0.
 *
 * Output: p50 / p99 / max per phase, and the last line `fairness p99 ratio: X` (flood p99 / idle p99).
 * Run (after `npm run build`): npm run bench -- fairness [--production] [--quiet 20] [--flood 60] [--heavy-bytes 2000] [--gap-ms 500]
 *   [--server-root DIR] (run the server built in another checkout, e.g. the code before a change).
 * JAM_* variables of the bench's environment (settings under test) are passed to the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { processEnvironment } from '@jam/config';
import { blake2b256, encodeWorkPackage, initHashing, packageHash, toHex, type WorkPackage } from '@jam/domain';
import { compileAssemblyScript } from './assemblyscript.compiler';
import { repoRoot } from './repo-root';

const root = repoRoot();

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
}

const QUIET = arg('quiet', 20);
const FLOOD = arg('flood', 60);
/** Payload bytes of one heavy package; each buys 65,536 xorshift rounds of refine (bench/workloads/spin.as). */
const HEAVY_BYTES = arg('heavy-bytes', 2_000);
const GAP_MS = arg('gap-ms', 500);
/**
 * Checkout whose built server runs (its dist/ and example services): another worktree measures the
 * code before a change with this same client. Default: this repository.
 */
const SERVER_ROOT = (() => {
  const i = process.argv.indexOf('--server-root');
  return i < 0 ? root : path.resolve(process.argv[i + 1] ?? '.');
})();
const MAIN_JS = path.join(SERVER_ROOT, 'dist', 'apps', 'standalone', 'src', 'main.js');
/**
 * `--production`: PostgreSQL (127.0.0.1:5432, a database of its own) and Redis (127.0.0.1:6379, a
 * key prefix of its own), one process per role as deployed: gateway, refine-worker per attester,
 * attestation, accumulate-worker, janitor. Default: the embedded single process.
 */
const PRODUCTION = process.argv.includes('--production');
const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = 'redis://127.0.0.1:6379';
/** Upper bound on any wait (ms): progress-bounded waits still need an end on a broken build. */
const DEADLINE_MS = arg('deadline-ms', 20 * 60_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Tenant {
  name: string;
  token: string;
  serviceId: number;
  codeHash: Uint8Array;
}

class Api {
  constructor(private readonly base: string) {}

  async call(token: string, method: string, p: string, body?: Uint8Array | string, type?: string): Promise<{ status: number; json: any }> {
    const init = {
      method,
      ...(body !== undefined ? { body: body as never } : {}),
      headers: { Authorization: `Bearer ${token}`, ...(type !== undefined ? { 'Content-Type': type } : {}) },
    };
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await fetch(`${this.base}${p}`, init);
        break;
      } catch (err) {
        // a kept-alive socket the server closed meanwhile ("other side closed"): try again on a new
        // connection (packages and preimages are idempotent by hash; a repeated service creation
        // before the load starts would only leave an unused service)
        if (attempt >= 3) throw err;
      }
    }
    const text = await res.text();
    return { status: res.status, json: text.length > 0 ? JSON.parse(text) : undefined };
  }

  async ok(token: string, method: string, p: string, body?: Uint8Array | string, type?: string): Promise<any> {
    const r = await this.call(token, method, p, body, type);
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

function workPackage(t: Tenant, payload: Uint8Array, refineGas: bigint): WorkPackage {
  const zero = new Uint8Array(32);
  return {
    authorization: new Uint8Array(0),
    auth_code_host: t.serviceId,
    auth_code_hash: t.codeHash,
    authorizer_config: new Uint8Array(0),
    context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
    items: [
      {
        service: t.serviceId,
        code_hash: t.codeHash,
        payload,
        refine_gas_limit: refineGas,
        accumulate_gas_limit: 1_000_000n,
        import_segments: [],
        extrinsic: [],
        export_count: 0,
      },
    ],
  };
}

/** Submits a package as GP binary. @returns its hash. */
async function submit(api: Api, t: Tenant, pkg: WorkPackage): Promise<string> {
  const r = await api.ok(t.token, 'POST', '/jam/packages', encodeWorkPackage(pkg), 'application/octet-stream');
  const hash = toHex(packageHash(pkg));
  if (r.hash !== hash) throw new Error(`server hash ${r.hash} != ${hash}`);
  return hash;
}

async function register(api: Api, name: string, token: string, code: Uint8Array): Promise<Tenant> {
  const hash = toHex(blake2b256(code));
  await api.ok(token, 'PUT', `/jam/preimages/${hash}`, code, 'application/octet-stream');
  const svc = await api.ok(token, 'POST', '/jam/services', JSON.stringify({ code_hash: hash }), 'application/json');
  return { name, token, serviceId: svc.id as number, codeHash: blake2b256(code) };
}

/** Status and accumulation time (ms since the epoch) of every package of the tenant's service. */
async function statuses(api: Api, t: Tenant): Promise<Map<string, { status: string; accumulatedAt: number | null }>> {
  const out = new Map<string, { status: string; accumulatedAt: number | null }>();
  let cursor: string | null = null;
  do {
    const page: any = await api.ok(t.token, 'GET', `/jam/services/${t.serviceId}/packages?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const p of page.items) out.set(p.hash, { status: p.status, accumulatedAt: p.accumulated_at ? Date.parse(p.accumulated_at) : null });
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

/**
 * Waits until every hash is finished; fails on a package that ends other than accumulated.
 * @returns accumulated_at per hash (ms since the epoch)
 */
async function waitAccumulated(api: Api, t: Tenant, hashes: string[]): Promise<Map<string, number>> {
  const until = Date.now() + DEADLINE_MS;
  for (;;) {
    const s = await statuses(api, t);
    const done = new Map<string, number>();
    for (const h of hashes) {
      const row = s.get(h);
      if (row === undefined) continue;
      if (row.status === 'failed' || row.status === 'disputed') throw new Error(`package ${h} of ${t.name} ended ${row.status}`);
      if (row.status === 'accumulated' && row.accumulatedAt !== null) done.set(h, row.accumulatedAt);
    }
    if (done.size === hashes.length) return done;
    if (Date.now() > until) throw new Error(`${t.name}: ${hashes.length - done.size} packages not accumulated after ${DEADLINE_MS} ms`);
    await sleep(250);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  // nearest rank
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface Phase {
  name: string;
  latenciesMs: number[];
  /** What `atLastSubmit` returned right after B's last submission. */
  afterSubmit?: number;
}

/** B submits QUIET word-count packages GAP_MS apart and waits for all; latency per package in ms. */
async function quietPhase(api: Api, b: Tenant, label: string, atLastSubmit?: () => Promise<number>): Promise<Phase> {
  const submitted: Array<{ hash: string; t0: number }> = [];
  for (let i = 0; i < QUIET; i++) {
    const text = `${label} package ${i} ${randomBytes(8).toString('hex')} the quick brown fox`;
    const pkg = workPackage(b, new TextEncoder().encode(text), 10_000_000n);
    const t0 = Date.now();
    submitted.push({ hash: await submit(api, b, pkg), t0 });
    if (i < QUIET - 1) await sleep(GAP_MS);
  }
  const afterSubmit = await atLastSubmit?.();
  const done = await waitAccumulated(
    api,
    b,
    submitted.map((s) => s.hash),
  );
  return {
    name: label,
    latenciesMs: submitted.map((s) => done.get(s.hash)! - s.t0).sort((x, y) => x - y),
    ...(afterSubmit !== undefined ? { afterSubmit } : {}),
  };
}

function line(p: Phase): string {
  const l = p.latenciesMs;
  return `${p.name.padEnd(22)} n=${l.length}  p50 ${percentile(l, 50)} ms  p99 ${percentile(l, 99)} ms  max ${l[l.length - 1]} ms`;
}

async function main(): Promise<void> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} missing: run npm run build`);
  await initHashing();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jam-bench-fairness-'));
  const port = await freePort();
  const tokens = { alice: `bench_${randomBytes(16).toString('hex')}`, bob: `bench_${randomBytes(16).toString('hex')}` };
  const digest = (t: string): string => createHash('sha256').update(t).digest('hex');
  const tag = randomBytes(6).toString('hex');
  const dbName = `jam_bench_fair_${tag}`;
  const prefix = `jam-bench-fair-${tag}`;
  const env = processEnvironment();
  const baseEnv: Record<string, string> = {
    PATH: env['PATH'] ?? '',
    HOME: env['HOME'] ?? '/tmp',
    JAM_DATA_DIR: dataDir,
    JAM_PORT: String(port),
    JAM_LOG_LEVEL: 'warn',
    JAM_RPC_PORT: '0',
    JAM_ALLOWED_TOKENS: `alice=${digest(tokens.alice)},bob=${digest(tokens.bob)}`,
    JAM_RATE_LIMIT_PER_MINUTE: '1000000',
    ...(PRODUCTION
      ? {
          DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
          REDIS_URL,
          JAM_QUEUE_PREFIX: prefix,
          JAM_BLOB_DIR: path.join(dataDir, 'blobs'),
          JAM_KEYS_DIR: path.join(dataDir, 'keys'),
        }
      : {}),
    // settings under test (JAM_REFINE_CONCURRENCY, JAM_SANDBOX_POOL_SIZE, ...) pass through
    ...Object.fromEntries(
      Object.entries(env).filter(
        (e): e is [string, string] => e[0].startsWith('JAM_') && e[1] !== undefined && !['JAM_DATA_DIR', 'JAM_PORT', 'JAM_ALLOWED_TOKENS'].includes(e[0]),
      ),
    ),
  };
  let stderr = '';
  const children: ChildProcess[] = [];
  const startRole = (extra: Record<string, string>): ChildProcess => {
    const c = spawn(process.execPath, [MAIN_JS], { cwd: SERVER_ROOT, env: { ...baseEnv, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    children.push(c);
    return c;
  };
  if (PRODUCTION) {
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
  }
  // the gateway (or the embedded all-in-one process) first: it runs the migrations
  const child = startRole(PRODUCTION ? { JAM_ROLES: 'gateway' } : {});
  const api = new Api(`http://127.0.0.1:${port}`);
  try {
    const up = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > up) throw new Error(`server not healthy after 180 s: ${stderr}`);
      await sleep(250);
    }
    if (PRODUCTION) {
      for (let i = 0; i < 3; i++) startRole({ JAM_ROLES: 'refine-worker', JAM_ATTESTER_INDEXES: String(i) });
      for (const role of ['attestation', 'accumulate-worker', 'janitor']) startRole({ JAM_ROLES: role });
    }
    const spin = await compileAssemblyScript(path.join(root, 'bench', 'workloads', 'spin.as'), false);
    const a = await register(api, 'A (flood)', tokens.alice, spin);
    const b = await register(
      api,
      'B (quiet)',
      tokens.bob,
      new Uint8Array(readFileSync(path.join(SERVER_ROOT, 'services', 'word-count', 'build', 'word-count.wasm'))),
    );
    console.log(
      `fairness bench: ${PRODUCTION ? 'production mode (PostgreSQL, Redis, one process per role)' : 'embedded server'} from ${SERVER_ROOT}, B ${QUIET} word-count packages ${GAP_MS} ms apart; A ${FLOOD} spin packages of ${HEAVY_BYTES} payload bytes`,
    );

    // Warm-up: compile both services in the executors, then time one heavy package alone.
    const warmB = await submit(api, b, workPackage(b, new TextEncoder().encode(`warm ${randomBytes(8).toString('hex')}`), 10_000_000n));
    await waitAccumulated(api, b, [warmB]);
    const heavy = (): WorkPackage => workPackage(a, randomBytes(HEAVY_BYTES), 4_000_000_000n);
    const tHeavy = Date.now();
    const warmA = await submit(api, a, heavy());
    const heavyMs = (await waitAccumulated(api, a, [warmA])).get(warmA)! - tHeavy;
    console.log(`one heavy A package alone: ${heavyMs} ms submit-to-accumulated`);

    const idle = await quietPhase(api, b, 'B idle');
    console.log(line(idle));

    const tFlood = Date.now();
    const floodHashes: string[] = [];
    const pending = Array.from({ length: FLOOD }, () => heavy());
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let pkg = pending.pop(); pkg !== undefined; pkg = pending.pop()) floodHashes.push(await submit(api, a, pkg));
      }),
    );
    console.log(`A's flood accepted in ${Date.now() - tFlood} ms`);
    const unfinished = async (): Promise<number> => {
      const s = await statuses(api, a);
      return floodHashes.filter((h) => s.get(h)?.status !== 'accumulated').length;
    };
    const flooded = await quietPhase(api, b, 'B during A flood', unfinished);
    const atEnd = await unfinished();
    console.log(line(flooded));
    console.log(`A's flood unfinished: ${flooded.afterSubmit} of ${FLOOD} packages at B's last submission, ${atEnd} when B's last package was accumulated`);
    const ratio = percentile(flooded.latenciesMs, 99) / percentile(idle.latenciesMs, 99);
    console.log(`fairness p99 ratio: ${ratio.toFixed(2)}`);
    if (flooded.afterSubmit === 0) {
      // B never competed with the flood: the ratio would measure nothing.
      console.log('WARNING: the flood drained before B submitted its last package; raise --flood or --heavy-bytes');
      process.exitCode = 1;
    }
  } finally {
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        const killer = setTimeout(() => c.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(killer);
      }),
    );
    if (PRODUCTION) {
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      // only this run's keys (the Redis server is shared: never FLUSHDB)
      const redis = new IORedis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
      await redis.quit();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
