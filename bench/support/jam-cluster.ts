/**
 * What the end-to-end benches share: start a real JAM server (embedded single process, or the
 * production topology of one process per role on PostgreSQL and Redis), talk to it over HTTP,
 * register a service, submit packages, wait for them, read CPU time from /proc, clean up.
 *
 * Every server gets its own temp data dir, port, database and Redis key prefix, and `stop()` removes
 * all of them (the PostgreSQL and Redis servers are shared with tests: never FLUSHDB, never drop what
 * this module did not create).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { processEnvironment } from '@jam/config';
import { blake2b256, encodeWorkPackage, packageHash, toHex, type WorkPackage } from '@jam/domain';

/** Admin connection of the machine's PostgreSQL (trust auth). */
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** The machine's Redis. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Next port to try with `--port-base` (undefined: let the OS choose). */
let nextPort: number | undefined;

/** Whether `port` can be bound on 127.0.0.1 now (released before return). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 (released before return): the next free one from `--port-base N`
 * upwards when the bench was given that (a range reserved for this run on a shared machine),
 * else one the OS chooses.
 */
export async function freePort(): Promise<number> {
  const base = numberArg('port-base', 0);
  if (base > 0) {
    nextPort ??= base;
    while (!(await portFree(nextPort))) nextPort++;
    return nextPort++;
  }
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `--name value` from argv as a non-negative number, else `fallback`. @throws Error on a bad value. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Median of an unsorted array (NaN when empty). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Thin HTTP client of the JAM API (bench code: JSON in, JSON out; >= 300 throws in `ok`). */
export class Api {
  constructor(readonly base: string) {}

  /** One request; retried twice on a connection error (kept-alive socket closed by the server). */
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
        // packages and preimages are idempotent by hash; a repeated service creation before the load
        // starts would only leave an unused service
        if (attempt >= 3) throw err;
      }
    }
    const text = await res.text();
    return { status: res.status, json: text.length > 0 ? JSON.parse(text) : undefined };
  }

  /** `call`, throwing on a status >= 300. @returns the JSON body */
  async ok(token: string, method: string, p: string, body?: Uint8Array | string, type?: string): Promise<any> {
    const r = await this.call(token, method, p, body, type);
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

/** A principal with one registered service. */
export interface Tenant {
  name: string;
  token: string;
  serviceId: number;
  codeHash: Uint8Array;
}

/** A one-item work package for the tenant's service (no imports, extrinsics or exports). Gas in gas units. */
export function workPackage(t: Tenant, payload: Uint8Array, refineGas: bigint, accumulateGas = 1_000_000n): WorkPackage {
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
        accumulate_gas_limit: accumulateGas,
        import_segments: [],
        extrinsic: [],
        export_count: 0,
      },
    ],
  };
}

/** Submits a package as GP binary (`POST /jam/packages`). @returns its 0x hash. @throws Error when refused or the hash differs */
export async function submit(api: Api, t: Tenant, pkg: WorkPackage): Promise<string> {
  const r = await api.ok(t.token, 'POST', '/jam/packages', encodeWorkPackage(pkg), 'application/octet-stream');
  const hash = toHex(packageHash(pkg));
  if (r.hash !== hash) throw new Error(`server hash ${r.hash} != ${hash}`);
  return hash;
}

/** Uploads `code` as a preimage and registers it as a service of `token`'s principal. Requires `initHashing()`. */
export async function register(api: Api, name: string, token: string, code: Uint8Array): Promise<Tenant> {
  const hash = toHex(blake2b256(code));
  await api.ok(token, 'PUT', `/jam/preimages/${hash}`, code, 'application/octet-stream');
  const svc = await api.ok(token, 'POST', '/jam/services', JSON.stringify({ code_hash: hash }), 'application/json');
  return { name, token, serviceId: svc.id as number, codeHash: blake2b256(code) };
}

/**
 * Status and accumulation time (ms since the epoch) of the packages of the tenant's service, newest
 * first: every package, or with `wanted`, pages only until each wanted hash has been seen (a bench
 * waits for the packages it just submitted, the newest: reading the whole history on every poll
 * would make the gateway's share of CPU per package grow with the rounds already run).
 */
export async function statuses(api: Api, t: Tenant, wanted?: ReadonlySet<string>): Promise<Map<string, { status: string; accumulatedAt: number | null }>> {
  const out = new Map<string, { status: string; accumulatedAt: number | null }>();
  let cursor: string | null = null;
  let seen = 0;
  do {
    const page: any = await api.ok(t.token, 'GET', `/jam/services/${t.serviceId}/packages?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const p of page.items) {
      out.set(p.hash, { status: p.status, accumulatedAt: p.accumulated_at ? Date.parse(p.accumulated_at) : null });
      if (wanted?.has(p.hash) === true) seen++;
    }
    cursor = page.next_cursor;
  } while (cursor && (wanted === undefined || seen < wanted.size));
  return out;
}

/**
 * Waits until every hash is accumulated, polling every `pollMs`; fails on a package that ends
 * failed or disputed, or after `deadlineMs`.
 * @returns accumulated_at per hash (ms since the epoch, the server's clock: same host)
 */
export async function waitAccumulated(api: Api, t: Tenant, hashes: readonly string[], deadlineMs: number, pollMs = 250): Promise<Map<string, number>> {
  const until = Date.now() + deadlineMs;
  const wanted = new Set(hashes);
  for (;;) {
    const s = await statuses(api, t, wanted);
    const done = new Map<string, number>();
    for (const h of hashes) {
      const row = s.get(h);
      if (row === undefined) continue;
      if (row.status === 'failed' || row.status === 'disputed') throw new Error(`package ${h} of ${t.name} ended ${row.status}`);
      if (row.status === 'accumulated' && row.accumulatedAt !== null) done.set(h, row.accumulatedAt);
    }
    if (done.size === hashes.length) return done;
    if (Date.now() > until) throw new Error(`${t.name}: ${hashes.length - done.size} packages not accumulated after ${deadlineMs} ms`);
    await sleep(pollMs);
  }
}

/** CPU time (user + system, ms) a process has used so far; 0 when it is gone. Linux /proc only. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based)
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** CPU time (ms) used so far by every process whose command name is `comm` (e.g. `postgres`, `redis-server`). */
export function cpuMsOfCommand(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) total += processCpuMs(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/**
 * CPU time (ms) of every PostgreSQL backend connected to one of `databases` right now, per PID
 * (from pg_stat_activity; the server is shared, so only this run's databases count). Take it
 * before and after a window and subtract with `cpuDelta`: backends of a pool live across it.
 */
export async function postgresBackendCpuMs(databases: readonly string[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (databases.length === 0) return out;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const r = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])', [databases]);
    for (const { pid } of r.rows) out.set(pid, processCpuMs(pid));
  } finally {
    await admin.end();
  }
  return out;
}

/** Cumulative PostgreSQL activity of some databases (pg_stat_database, pg_stat_user_tables). */
export interface SqlActivity {
  /** committed + rolled-back transactions (each autocommit statement is one) */
  xacts: number;
  /** sequential + index scans started on the user tables (about one per table a statement reads) */
  scans: number;
  /** rows inserted + updated + deleted in the user tables */
  rowWrites: number;
}

/**
 * Snapshot of the cumulative activity of `databases` (sums). PostgreSQL 15 backends publish their
 * counts at most once a second, and an idle one within 10 s: wait that long after a run before
 * the second snapshot.
 */
export async function sqlActivity(databases: readonly string[]): Promise<SqlActivity> {
  const out: SqlActivity = { xacts: 0, scans: 0, rowWrites: 0 };
  for (const db of databases) {
    const c = new Client({ connectionString: PG_ADMIN_URL.replace(/\/postgres$/, `/${db}`) });
    await c.connect();
    try {
      await c.query('SELECT pg_stat_clear_snapshot()');
      const d = await c.query<{ x: string }>('SELECT (xact_commit + xact_rollback)::text AS x FROM pg_stat_database WHERE datname = $1', [db]);
      const t = await c.query<{ scans: string; writes: string }>(
        `SELECT COALESCE(sum(COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)), 0)::text AS scans,
                COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS writes FROM pg_stat_user_tables`,
      );
      out.xacts += Number(d.rows[0]?.x ?? 0);
      out.scans += Number(t.rows[0]?.scans ?? 0);
      out.rowWrites += Number(t.rows[0]?.writes ?? 0);
    } finally {
      await c.end();
    }
  }
  return out;
}

/** CPU ms used between two `postgresBackendCpuMs` snapshots (a PID new in `after` counts whole). */
export function cpuDelta(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** What `startCluster` takes. */
export interface ClusterOptions {
  /** Label used in temp dir, database and prefix names (letters, digits, `_`). */
  label: string;
  /** One process per role on PostgreSQL + Redis (true) or the embedded single process (false). */
  production: boolean;
  /** Principal names; each gets a random bearer token. */
  principals: readonly string[];
  /** Checkout whose built server runs (default: this repository). */
  serverRoot: string;
  /** Extra JAM_* settings for every process (override the bench's environment). */
  env?: Record<string, string>;
  /**
   * Production roles to start after the gateway (default all: 3 refine workers, attestation,
   * accumulate-worker, janitor); `['gateway']` starts the gateway alone.
   */
  roles?: readonly string[];
  /** Bound on the wait for /healthz, ms (default 180,000). */
  startTimeoutMs?: number;
  /**
   * Serve the JIP-2 RPC (docs/jip2.md) on a free port, `Cluster.rpcPort` (default false: no RPC
   * listener, so a bench never takes the shared default port 19800 another server may hold).
   */
  rpc?: boolean;
  /**
   * Write a V8 CPU profile of every server process (`--cpu-prof`, written at exit, so at `stop()`)
   * under `<cpuProfDir>/<role>/` (roles: gateway, refine-0..2, attestation, accumulate-worker,
   * janitor; `embedded` in embedded mode). Executor processes are not profiled.
   */
  cpuProfDir?: string;
}

/** A running server started by `startCluster`. */
export interface Cluster {
  api: Api;
  port: number;
  /** Port of the gateway's JIP-2 RPC listener with `rpc: true`, else undefined. */
  rpcPort: number | undefined;
  /** principal -> bearer token */
  tokens: Record<string, string>;
  /** PIDs of the server's processes (one in embedded mode, seven in production). */
  pids(): number[];
  /** The production database's URL (undefined in embedded mode). */
  databaseUrl: string | undefined;
  /** The production database's name (undefined in embedded mode). */
  databaseName: string | undefined;
  /** Stops every process (SIGTERM, SIGKILL after 20 s) and removes the data dir, database and Redis keys. */
  stop(): Promise<void>;
}

/**
 * Starts a server from `<serverRoot>/dist/apps/standalone/src/main.js`: embedded, or gateway (runs
 * the migrations) then 3 refine workers (attesters 0..2), attestation, accumulate-worker and janitor.
 * JAM_* variables of the bench's own environment pass through (settings under test).
 * @throws Error when the build is missing or the server is not healthy within the start timeout
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const mainJs = path.join(opts.serverRoot, 'dist', 'apps', 'standalone', 'src', 'main.js');
  if (!existsSync(mainJs)) throw new Error(`${mainJs} missing: run npm run build`);
  const dataDir = mkdtempSync(path.join(tmpdir(), `jam-bench-${opts.label}-`));
  const port = await freePort();
  const rpcPort = opts.rpc === true ? await freePort() : undefined;
  const tokens = Object.fromEntries(opts.principals.map((p) => [p, `bench_${randomBytes(16).toString('hex')}`]));
  const digest = (t: string): string => createHash('sha256').update(t).digest('hex');
  const tag = randomBytes(6).toString('hex');
  const dbName = `jam_bench_${opts.label}_${tag}`;
  const prefix = `jam-bench-${opts.label}-${tag}`;
  const env = processEnvironment();
  const databaseUrl = opts.production ? `postgres://postgres@127.0.0.1:5432/${dbName}` : undefined;
  const baseEnv: Record<string, string> = {
    PATH: env['PATH'] ?? '',
    HOME: env['HOME'] ?? '/tmp',
    // settings under test (JAM_REFINE_CONCURRENCY, JAM_SANDBOX_POOL_SIZE, ...) pass through
    ...Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('JAM_') && e[1] !== undefined)),
    JAM_LOG_LEVEL: 'warn',
    JAM_RATE_LIMIT_PER_MINUTE: '1000000',
    ...(opts.env ?? {}),
    JAM_DATA_DIR: dataDir,
    JAM_PORT: String(port),
    // no JIP-2 RPC listener unless asked (`rpc: true`, on a free port): its fixed default port is
    // taken by any other server on the machine
    JAM_RPC_PORT: String(rpcPort ?? 0),
    JAM_ALLOWED_TOKENS: Object.entries(tokens)
      .map(([p, t]) => `${p}=${digest(t)}`)
      .join(','),
    ...(databaseUrl !== undefined
      ? {
          DATABASE_URL: databaseUrl,
          REDIS_URL,
          JAM_QUEUE_PREFIX: prefix,
          JAM_BLOB_DIR: path.join(dataDir, 'blobs'),
          JAM_KEYS_DIR: path.join(dataDir, 'keys'),
        }
      : {}),
  };
  let stderr = '';
  const children: ChildProcess[] = [];
  const startRole = (extra: Record<string, string>, profileAs: string): ChildProcess => {
    // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line
    const profile = opts.cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.cpuProfDir, profileAs)}`] : [];
    const c = spawn(process.execPath, [...profile, mainJs], { cwd: opts.serverRoot, env: { ...baseEnv, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    children.push(c);
    return c;
  };
  const stop = async (): Promise<void> => {
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
    if (databaseUrl !== undefined) {
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      await deleteRedisPrefix(prefix);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (databaseUrl !== undefined) {
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
    }
    // the gateway (or the embedded all-in-one process) first: it runs the migrations
    const first = startRole(databaseUrl !== undefined ? { JAM_ROLES: 'gateway' } : {}, databaseUrl !== undefined ? 'gateway' : 'embedded');
    const up = Date.now() + (opts.startTimeoutMs ?? 180_000);
    for (;;) {
      if (first.exitCode !== null) throw new Error(`server exited ${first.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > up) throw new Error(`server not healthy in time: ${stderr}`);
      await sleep(250);
    }
    if (databaseUrl !== undefined) {
      const roles = opts.roles ?? ['refine-worker', 'attestation', 'accumulate-worker', 'janitor'];
      if (roles.includes('refine-worker'))
        for (let i = 0; i < 3; i++) startRole({ JAM_ROLES: 'refine-worker', JAM_ATTESTER_INDEXES: String(i) }, `refine-${i}`);
      for (const role of ['attestation', 'accumulate-worker', 'janitor']) if (roles.includes(role)) startRole({ JAM_ROLES: role }, role);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    api: new Api(`http://127.0.0.1:${port}`),
    port,
    rpcPort,
    tokens,
    databaseUrl,
    databaseName: databaseUrl !== undefined ? dbName : undefined,
    pids: () => children.filter((c) => c.exitCode === null && c.pid !== undefined).map((c) => c.pid!),
    stop,
  };
}

/** Deletes every Redis key under `<prefix>:` (SCAN + UNLINK; the server is shared, never FLUSHDB). */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new IORedis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
