/**
 * Pipeline throughput, CPU per package and latency (issue 8; docs/performance.md, "Pipeline
 * throughput"): the product beside a bare BullMQ chain with the same fan-out, in one run.
 *
 * Systems, all started once and measured in interleaved rounds (round r runs each system in turn):
 * - `bare`: the product's fan-out with no-op processors (bench/pipeline-bare.worker.ts: 3 refine
 *   processes, one per attester queue, an attestation process joining 2 of 3, an accumulate process);
 *   the bench process is the producer (3 refine jobs per package);
 * - `bare+pg`: the same plus one PostgreSQL INSERT per hop (8 per package), own database;
 * - `production`: the product, one process per role (gateway, 3 refine workers, attestation,
 *   accumulate, janitor), PostgreSQL + Redis, word-count packages over HTTP (GP binary);
 * - `embedded`: the product as one process (PGlite, in-process queue) — skip with `--no-embedded`.
 *
 * Per round and system: saturation (`--packages` N submitted by 8 concurrent clients as fast as
 * accepted; packages/s = N / (last accumulated - first submit); CPU per package = CPU time of the
 * system's processes + the PostgreSQL backends connected to its database + `redis-server` over that
 * window / N; Redis is one shared server, so its share includes whatever else the machine runs), then
 * latency at `--rate` packages/s (`--latency-packages` packages; submit to accumulated, p50/p99).
 * Prints a table per round, the medians, JSON to bench/results/pipeline.json (or `--json FILE`),
 * and last the line `pipeline/bare ratio: X` (median production packages/s over median bare).
 *
 * With `--base-root DIR` a fifth system, `base`, runs the production topology from another built
 * checkout (e.g. main) in the same interleaved rounds: `production/base ratio: X` compares the two.
 * For systems on PostgreSQL the table also gives SQL work per package over the round (saturation and
 * latency packages, read 11 s after the last one so every backend has published its counts):
 * transactions (an autocommit statement is one), table scans started, rows written.
 *
 * Run (after `npm run build`): npm run bench -- pipeline [--packages 300] [--rounds 3] [--rate 5]
 *   [--latency-packages 40] [--no-embedded] [--server-root DIR] [--base-root DIR] [--cpu-prof DIR]
 *   [--port-base PORT]
 * `--cpu-prof DIR` writes a V8 CPU profile of each product process (whole life: start, warm-up, rounds)
 * to DIR/<system>/<role>/; summarise with `node dist/bench/cpu-profile-summary.js DIR`.
 * `--port-base PORT`: servers listen on the free ports from PORT upwards (else the OS chooses).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client, Pool } from 'pg';
import { initHashing } from '@jam/domain';
import { repoRoot } from './repo-root';
import {
  cpuDelta,
  cpuMsOfCommand,
  sqlActivity,
  type SqlActivity,
  deleteRedisPrefix,
  median,
  numberArg,
  percentile,
  PG_ADMIN_URL,
  postgresBackendCpuMs,
  processCpuMs,
  register,
  REDIS_URL,
  sleep,
  startCluster,
  submit,
  waitAccumulated,
  workPackage,
  type Cluster,
  type Tenant,
} from './support/jam-cluster';

const root = repoRoot();
const PACKAGES = numberArg('packages', 300);
const ROUNDS = numberArg('rounds', 3);
const RATE = numberArg('rate', 5);
const LATENCY_PACKAGES = numberArg('latency-packages', 40);
const CLIENTS = 8;
const DEADLINE_MS = numberArg('deadline-ms', 20 * 60_000);
const EMBEDDED = !process.argv.includes('--no-embedded');
const SERVER_ROOT = (() => {
  const i = process.argv.indexOf('--server-root');
  return i < 0 ? root : path.resolve(process.argv[i + 1] ?? '.');
})();
const BASE_ROOT = (() => {
  const i = process.argv.indexOf('--base-root');
  return i < 0 ? undefined : path.resolve(process.argv[i + 1] ?? '.');
})();
/** `--cpu-prof DIR`: V8 CPU profiles of the product's processes under DIR/<system>/<role>/ (bench/cpu-profile-summary.ts reads them). */
const CPU_PROF_DIR = (() => {
  const i = process.argv.indexOf('--cpu-prof');
  return i < 0 ? undefined : path.resolve(process.argv[i + 1] ?? 'cpu-profiles');
})();
const JSON_OUT = (() => {
  const i = process.argv.indexOf('--json');
  return i < 0 ? path.join(root, 'bench', 'results', 'pipeline.json') : path.resolve(process.argv[i + 1] ?? 'pipeline.json');
})();

/** One measured run of one system. */
interface Sample {
  system: string;
  round: number;
  packagesPerSecond: number;
  /** CPU ms per package: the system's own processes / PostgreSQL / Redis */
  cpuMsPerPackage: { processes: number; postgres: number; redis: number; total: number };
  latencyMs: { p50: number; p99: number };
  /** SQL work per package over the round (systems on PostgreSQL only) */
  sqlPerPackage?: SqlActivity;
}

/** A system under test: how to push n packages through it and when each was done. */
interface System {
  name: string;
  /** Submits `count` packages, `gapMs` apart (0 = as fast as CLIENTS concurrent submitters go). @returns submit times and done times per package (ms since the epoch). */
  run(count: number, gapMs: number): Promise<{ submittedAt: number[]; doneAt: number[] }>;
  /** PIDs whose CPU counts as the system's own. */
  pids(): number[];
  /** PostgreSQL databases whose backends' CPU counts (none for embedded: PGlite is in-process). */
  databases: string[];
  /** Whether the bench process itself does the system's work (the bare producer): its CPU counts too. */
  producerInBench: boolean;
  stop(): Promise<void>;
}

/** Runs `fn` for i = 0..count-1 with `gapMs` between starts, or with CLIENTS workers when gapMs = 0. */
async function paced(count: number, gapMs: number, fn: (i: number) => Promise<void>): Promise<void> {
  if (gapMs === 0) {
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < count; i = next++) await fn(i);
      }),
    );
    return;
  }
  const started: Promise<void>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const wait = t0 + i * gapMs - Date.now();
    if (wait > 0) await sleep(wait);
    started.push(fn(i));
  }
  await Promise.all(started);
}

async function productSystem(name: string, production: boolean, serverRoot = SERVER_ROOT): Promise<System> {
  const cluster: Cluster = await startCluster({
    label: name,
    production,
    principals: ['bench'],
    serverRoot,
    env: { JAM_MAX_PENDING_PACKAGES: '1000000' },
    ...(CPU_PROF_DIR !== undefined ? { cpuProfDir: path.join(CPU_PROF_DIR, name) } : {}),
  });
  try {
    const code = new Uint8Array(readFileSync(path.join(serverRoot, 'services', 'word-count', 'build', 'word-count.wasm')));
    const tenant: Tenant = await register(cluster.api, name, cluster.tokens['bench']!, code);
    // warm-up: the executors compile the service once
    const warm = await submit(cluster.api, tenant, workPackage(tenant, text(`warm ${name}`), 10_000_000n));
    await waitAccumulated(cluster.api, tenant, [warm], DEADLINE_MS);
    return {
      name,
      producerInBench: false,
      databases: cluster.databaseName !== undefined ? [cluster.databaseName] : [],
      pids: () => cluster.pids(),
      stop: () => cluster.stop(),
      async run(count, gapMs) {
        const hashes: string[] = new Array(count);
        const submittedAt: number[] = new Array(count);
        await paced(count, gapMs, async (i) => {
          submittedAt[i] = Date.now();
          hashes[i] = await submit(cluster.api, tenant, workPackage(tenant, text(`${name} ${i}`), 10_000_000n));
        });
        const done = await waitAccumulated(cluster.api, tenant, hashes, DEADLINE_MS, 500);
        return { submittedAt, doneAt: hashes.map((h) => done.get(h)!) };
      },
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** A word-count payload of about 200 bytes (the package is ~270 bytes encoded, as in the figures). */
function text(label: string): Uint8Array {
  return new TextEncoder().encode(`${label} ${randomBytes(8).toString('hex')} the quick brown fox jumps over the lazy dog `.repeat(3).slice(0, 200));
}

async function bareSystem(name: string, withPostgres: boolean): Promise<System> {
  const tag = randomBytes(6).toString('hex');
  const prefix = `jam-bench-bare-${tag}`;
  const dbName = `jam_bench_bare_${tag}`;
  const databaseUrl = withPostgres ? `postgres://postgres@127.0.0.1:5432/${dbName}` : undefined;
  if (databaseUrl !== undefined) {
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const c = new Client({ connectionString: databaseUrl });
    await c.connect();
    await c.query('CREATE TABLE bare_hop (id bigserial PRIMARY KEY, pkg integer NOT NULL, hop text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    await c.end();
  }
  const workerJs = path.join(root, 'dist', 'bench', 'pipeline-bare.worker.js');
  const children: ChildProcess[] = [];
  for (const role of ['refine:0', 'refine:1', 'refine:2', 'attestation', 'accumulate']) {
    const c = spawn(process.execPath, [workerJs, role, prefix, ...(databaseUrl !== undefined ? [databaseUrl] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('exit', (code) => reject(new Error(`bare ${role} exited ${code}`)));
      c.stdout!.once('data', () => resolve());
    });
  }
  const connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const refine = [0, 1, 2].map((i) => new Queue(`refine-a${i}`, { connection, prefix }));
  const pool = databaseUrl !== undefined ? new Pool({ connectionString: databaseUrl, max: 4 }) : undefined;
  let nextPkg = 0;
  return {
    name,
    producerInBench: true,
    databases: withPostgres ? [dbName] : [],
    pids: () => children.filter((c) => c.exitCode === null).map((c) => c.pid!),
    async run(count, gapMs) {
      const base = nextPkg;
      nextPkg += count;
      const submittedAt: number[] = new Array(count);
      await paced(count, gapMs, async (i) => {
        submittedAt[i] = Date.now();
        const pkg = base + i;
        if (pool !== undefined) await pool.query('INSERT INTO bare_hop (pkg, hop) VALUES ($1, $2)', [pkg, 'submit']);
        await Promise.all(refine.map((q) => q.add('refine', { pkg }, { removeOnComplete: true, removeOnFail: 1000, jobId: `r-${pkg}-${q.name}` })));
      });
      const until = Date.now() + DEADLINE_MS;
      for (;;) {
        const done = await connection.hmget(`${prefix}:done`, ...Array.from({ length: count }, (_, i) => String(base + i)));
        if (done.every((d) => d !== null)) return { submittedAt, doneAt: done.map(Number) };
        if (Date.now() > until) throw new Error(`${name}: not done after ${DEADLINE_MS} ms`);
        await sleep(20);
      }
    },
    async stop() {
      await Promise.all(
        children.map(async (c) => {
          if (c.exitCode !== null) return;
          const exited = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          const killer = setTimeout(() => c.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(killer);
        }),
      );
      await Promise.all(refine.map((q) => q.close()));
      await connection.quit();
      await pool?.end();
      await deleteRedisPrefix(prefix);
      if (databaseUrl !== undefined) {
        const admin = new Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await admin.end();
      }
    },
  };
}

/**
 * Appends the saturation window of one round to `<--cpu-prof DIR>/windows.json`, in µs of the
 * monotonic clock that V8 CPU profiles' timestamps use too (CLOCK_MONOTONIC, one per machine), so
 * the summary can count only the samples taken while packages flowed (not start-up or warm-up).
 */
function recordWindow(system: string, round: number, from: bigint, to: bigint): void {
  const file = path.join(CPU_PROF_DIR!, 'windows.json');
  let windows: unknown[] = [];
  try {
    windows = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
  } catch {
    /* first window */
  }
  windows.push({ system, round, packages: PACKAGES, fromUs: Number(from / 1000n), toUs: Number(to / 1000n) });
  mkdirSync(CPU_PROF_DIR!, { recursive: true });
  writeFileSync(file, JSON.stringify(windows, null, 2));
}

async function measure(system: System, round: number): Promise<Sample> {
  const sql0 = system.databases.length > 0 ? await sqlActivity(system.databases) : undefined;
  // saturation, with CPU accounting over the window
  const cpu0 = {
    procs: system.pids().reduce((s, p) => s + processCpuMs(p), 0),
    pg: await postgresBackendCpuMs(system.databases),
    redis: cpuMsOfCommand('redis-server'),
    self: process.cpuUsage(),
  };
  const from = process.hrtime.bigint();
  const sat = await system.run(PACKAGES, 0);
  if (CPU_PROF_DIR !== undefined) recordWindow(system.name, round, from, process.hrtime.bigint());
  const self = process.cpuUsage(cpu0.self);
  const procs = system.pids().reduce((s, p) => s + processCpuMs(p), 0) - cpu0.procs + (system.producerInBench ? (self.user + self.system) / 1000 : 0);
  const pg = cpuDelta(cpu0.pg, await postgresBackendCpuMs(system.databases));
  const redis = cpuMsOfCommand('redis-server') - cpu0.redis;
  const first = Math.min(...sat.submittedAt);
  const last = Math.max(...sat.doneAt);
  // latency at a steady rate
  const lat = await system.run(LATENCY_PACKAGES, 1000 / RATE);
  const latencies = lat.doneAt.map((d, i) => d - lat.submittedAt[i]!).sort((a, b) => a - b);
  let sqlPerPackage: SqlActivity | undefined;
  if (sql0 !== undefined) {
    await sleep(11_000);
    const sql1 = await sqlActivity(system.databases);
    const n = PACKAGES + LATENCY_PACKAGES;
    sqlPerPackage = { xacts: (sql1.xacts - sql0.xacts) / n, scans: (sql1.scans - sql0.scans) / n, rowWrites: (sql1.rowWrites - sql0.rowWrites) / n };
  }
  return {
    ...(sqlPerPackage !== undefined ? { sqlPerPackage } : {}),
    system: system.name,
    round,
    packagesPerSecond: PACKAGES / ((last - first) / 1000),
    cpuMsPerPackage: { processes: procs / PACKAGES, postgres: pg / PACKAGES, redis: redis / PACKAGES, total: (procs + pg + redis) / PACKAGES },
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
  };
}

function row(s: Pick<Sample, 'system' | 'packagesPerSecond' | 'cpuMsPerPackage' | 'latencyMs' | 'sqlPerPackage'>): string {
  const c = s.cpuMsPerPackage;
  const q = s.sqlPerPackage;
  return [
    s.system.padEnd(11),
    s.packagesPerSecond.toFixed(1).padStart(8),
    `${c.total.toFixed(1)} (${c.processes.toFixed(1)}/${c.postgres.toFixed(1)}/${c.redis.toFixed(1)})`.padStart(24),
    `${s.latencyMs.p50.toFixed(0)} / ${s.latencyMs.p99.toFixed(0)}`.padStart(14),
    (q === undefined ? '-' : `${q.xacts.toFixed(1)} / ${q.scans.toFixed(1)} / ${q.rowWrites.toFixed(1)}`).padStart(22),
  ].join('  ');
}

const HEADER = `${'system'.padEnd(11)}  ${'pkg/s'.padStart(8)}  ${'CPU ms/pkg (own/pg/redis)'.padStart(24)}  ${'p50 / p99 ms'.padStart(14)}  ${'SQL xacts/scans/writes'.padStart(22)}`;

async function main(): Promise<void> {
  await initHashing();
  console.log(
    `pipeline bench: ${PACKAGES} packages at saturation (${CLIENTS} clients), ${LATENCY_PACKAGES} at ${RATE}/s, ${ROUNDS} interleaved rounds; server from ${SERVER_ROOT}`,
  );
  const systems: System[] = [];
  try {
    systems.push(await bareSystem('bare', false));
    systems.push(await bareSystem('bare+pg', true));
    systems.push(await productSystem('production', true));
    if (BASE_ROOT !== undefined) systems.push(await productSystem('base', true, BASE_ROOT));
    if (EMBEDDED) systems.push(await productSystem('embedded', false));
    const samples: Sample[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`\nround ${round}\n${HEADER}`);
      for (const s of systems) {
        const sample = await measure(s, round);
        samples.push(sample);
        console.log(row(sample));
      }
    }
    const med = (name: string): Sample => {
      const mine = samples.filter((s) => s.system === name);
      const m = (f: (s: Sample) => number): number => median(mine.map(f));
      return {
        system: name,
        round: 0,
        packagesPerSecond: m((s) => s.packagesPerSecond),
        cpuMsPerPackage: {
          processes: m((s) => s.cpuMsPerPackage.processes),
          postgres: m((s) => s.cpuMsPerPackage.postgres),
          redis: m((s) => s.cpuMsPerPackage.redis),
          total: m((s) => s.cpuMsPerPackage.total),
        },
        latencyMs: { p50: m((s) => s.latencyMs.p50), p99: m((s) => s.latencyMs.p99) },
        ...(mine.every((s) => s.sqlPerPackage !== undefined)
          ? {
              sqlPerPackage: {
                xacts: m((s) => s.sqlPerPackage!.xacts),
                scans: m((s) => s.sqlPerPackage!.scans),
                rowWrites: m((s) => s.sqlPerPackage!.rowWrites),
              },
            }
          : {}),
      };
    };
    const medians = systems.map((s) => med(s.name));
    console.log(`\nmedians of ${ROUNDS} rounds\n${HEADER}`);
    for (const m of medians) console.log(row(m));
    const by = (n: string): Sample => medians.find((m) => m.system === n)!;
    const ratio = by('production').packagesPerSecond / by('bare').packagesPerSecond;
    const ratioPg = by('production').packagesPerSecond / by('bare+pg').packagesPerSecond;
    console.log(
      `production vs bare+pg: ${ratioPg.toFixed(3)}; latency p50/p99 vs bare: ${(by('production').latencyMs.p50 / by('bare').latencyMs.p50).toFixed(2)}x / ${(by('production').latencyMs.p99 / by('bare').latencyMs.p99).toFixed(2)}x`,
    );
    // per-round ratios of production over base (interleaved: same period, same load)
    const perRound =
      BASE_ROOT === undefined
        ? []
        : Array.from({ length: ROUNDS }, (_, i) => {
            const r = (n: string): Sample => samples.find((x) => x.system === n && x.round === i + 1)!;
            return r('production').packagesPerSecond / r('base').packagesPerSecond;
          });
    if (BASE_ROOT !== undefined) {
      console.log(`production/base pkg/s per round: ${perRound.map((x) => x.toFixed(3)).join(', ')} (base: ${BASE_ROOT})`);
      console.log(`production/base CPU per package: ${(by('production').cpuMsPerPackage.total / by('base').cpuMsPerPackage.total).toFixed(3)}`);
      console.log(`production/base ratio: ${(by('production').packagesPerSecond / by('base').packagesPerSecond).toFixed(3)}`);
    }
    mkdirSync(path.dirname(JSON_OUT), { recursive: true });
    writeFileSync(
      JSON_OUT,
      JSON.stringify({ packages: PACKAGES, rounds: ROUNDS, rate: RATE, baseRoot: BASE_ROOT ?? null, samples, medians, ratio, ratioPg, perRound }, null, 2),
    );
    console.log(`JSON: ${path.relative(process.cwd(), JSON_OUT)}`);
    console.log(`pipeline/bare ratio: ${ratio.toFixed(3)}`);
  } finally {
    for (const s of systems) await s.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
