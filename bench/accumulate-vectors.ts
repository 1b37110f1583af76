/**
 * GP accumulation: the 30 accumulate STF vectors (test/fixtures/jam-vectors/stf/accumulate/tiny)
 * through the GP 0.7.2 accumulation module (libs/sandbox/src/pvm/accumulate), one table row per
 * vector (reports given, gas the services used, wall time reading + STF) and the line
 * `accumulate vectors: N/30 passed`; then `--reps R` more timed passes over all 30 (ms per vector
 * reading the JSON and ms in the STF, median of the passes). Results: docs/performance.md, "GP accumulation".
 *
 * With `--db`, the same vectors then run through the product's GP accumulate path, R passes
 * interleaved with the pure STF: the pre-state written to a fresh PostgreSQL database
 * (`GpStateRepository.replace`), then `GpAccumulator.accumulate` (state loaded from PostgreSQL,
 * the STF in one sandbox executor process, the post-state written back compare-and-set); ms per
 * vector of each step, medians, and the ratio to the in-process STF.
 *
 * Run: npm run build && npm run bench -- accumulate-vectors [--reps R] [--db]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource, createRepositories, runMigrations } from '@jam/persistence';
import {
  checkAccumulateVector,
  compareAccumulateVector,
  initAccumulateHashing,
  parseAccumulateVector,
  runAccumulateVector,
  SandboxPool,
  TINY_ACCUMULATE_CONFIG,
  type AccumulateVector,
} from '@jam/sandbox';
import { fromStfState, GpAccumulator, toStfState } from '../apps/accumulate-worker/src/gp-accumulator';
import { PG_ADMIN_URL } from './support/jam-cluster';
import { repoRoot } from './repo-root';

/** The vectors' accounts all belong to one tenant. */
const OWNER = 'vectors';
const median = (x: number[]): number => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** `--db`: R interleaved passes, pure STF in this process vs the product path through PostgreSQL and an executor. */
async function throughPostgres(vectors: AccumulateVector[], reps: number): Promise<void> {
  const name = `jam_bench_gpacc_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const ds = createDataSource({ url: `postgres://postgres@127.0.0.1:5432/${name}`, poolSize: 2 });
  const pool = new SandboxPool({ size: 1, wallClockMs: 300_000 });
  try {
    await ds.initialize();
    await runMigrations(ds);
    const { gpState } = createRepositories(ds);
    await pool.start();
    const accumulator = new GpAccumulator({ gpState, sandbox: pool, chain: 'tiny' });
    const [pure, write, load, run]: [number[], number[], number[], number[]] = [[], [], [], []];
    let passed = 0;
    for (let rep = 0; rep < reps; rep++) {
      let [p, w, l, a] = [0, 0, 0, 0];
      for (const v of vectors) {
        let t0 = process.hrtime.bigint();
        checkAccumulateVector(v);
        p += ms(t0);
        t0 = process.hrtime.bigint();
        await gpState.replace(fromStfState(OWNER, v.pre));
        w += ms(t0);
        t0 = process.hrtime.bigint();
        await gpState.load(OWNER, TINY_ACCUMULATE_CONFIG.epochLength);
        l += ms(t0);
        t0 = process.hrtime.bigint();
        await accumulator.accumulate({ owner: OWNER, reports: v.reports, slot: v.slot, entropy: v.pre.entropy });
        a += ms(t0);
        if (rep === 0) {
          const stored = await gpState.load(OWNER, TINY_ACCUMULATE_CONFIG.epochLength);
          const last = await gpState.lastAccumulation(OWNER);
          const r = compareAccumulateVector(v, { state: toStfState(stored, stored.entropy), root: last.outputRoot, statistics: last.statistics });
          if (r.mismatches.length === 0) passed++;
          else console.log(`${v.name}: FAIL through PostgreSQL: ${r.mismatches.join('; ')}`);
        }
      }
      const n = vectors.length;
      pure.push(p / n);
      write.push(w / n);
      load.push(l / n);
      run.push(a / n);
    }
    console.log(`accumulate vectors through PostgreSQL: ${passed}/${vectors.length} passed`);
    const f = (x: number[]): string => median(x).toFixed(1);
    console.log(
      `per vector, median of ${reps} passes: pure STF ${f(pure)} ms; through PostgreSQL: write pre-state ${f(write)} ms, load ${f(load)} ms, ` +
        `accumulate (load + executor + compare-and-set apply) ${f(run)} ms = ${(median(run) / median(pure)).toFixed(1)}x the pure STF`,
    );
    if (passed !== vectors.length) process.exitCode = 1;
  } finally {
    await pool.close();
    if (ds.isInitialized) await ds.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  await initAccumulateHashing();
  const dir = path.join(repoRoot(), 'test', 'fixtures', 'jam-vectors', 'stf', 'accumulate', 'tiny');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const texts = files.map((f) => readFileSync(path.join(dir, f), 'utf8'));
  let passed = 0;
  console.log(`${'vector'.padEnd(44)} ${'reports'.padStart(7)} ${'gas'.padStart(7)} ${'ms'.padStart(7)}  result`);
  files.forEach((f, i) => {
    const t0 = process.hrtime.bigint();
    const r = runAccumulateVector(f, texts[i]!);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.mismatches.length === 0) passed++;
    const verdict = r.mismatches.length === 0 ? 'pass' : `FAIL: ${r.mismatches.join('; ')}`;
    console.log(
      `${f.replace(/\.json$/, '').padEnd(44)} ${String(r.reports).padStart(7)} ${String(r.gasUsed).padStart(7)} ${ms.toFixed(1).padStart(7)}  ${verdict}`,
    );
  });
  console.log(`accumulate vectors: ${passed}/${files.length} passed`);
  const reps = arg('--reps', 3);
  const parsing: number[] = [];
  const stf: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    // each pass times, vector by vector, the JSON reading and then the STF (with its comparison)
    let [p, s] = [0, 0];
    files.forEach((f, i) => {
      const t0 = process.hrtime.bigint();
      const v = parseAccumulateVector(f, texts[i]!);
      const t1 = process.hrtime.bigint();
      checkAccumulateVector(v);
      s += Number(process.hrtime.bigint() - t1);
      p += Number(t1 - t0);
    });
    parsing.push(p / 1e6 / files.length);
    stf.push(s / 1e6 / files.length);
  }
  if (reps > 0)
    console.log(
      `accumulate speed: ${reps} passes over ${files.length} vectors: median ${median(parsing).toFixed(1)} ms reading the JSON, ${median(stf).toFixed(1)} ms in the STF (+ comparison) per vector`,
    );
  process.exitCode = passed === files.length ? 0 : 1;
  if (process.argv.includes('--db'))
    await throughPostgres(
      files.map((f, i) => parseAccumulateVector(f, texts[i]!)),
      Math.max(1, reps),
    );
}

void main();
