/**
 * Sandbox overhead (issue 3): plain V8 WebAssembly vs our metered engine (`meterServiceCode`
 * output instantiated with the same host imports) vs npm `wasm-metering` (a host call per block),
 * on real workloads, all in one run; then per-job costs (meter, compile, instantiate, a trivial
 * job's round trip through `SandboxPool`, pool jobs/s).
 *
 * Workloads: bench/workloads/*.as and the example service services/blake2b, compiled here with
 * the deterministic flags of scripts/build-services.js (bench/assemblyscript.compiler.ts); the
 * wasm-metering comparison uses MVP builds of the same sources (no bulk memory, no sign extension)
 * and compares against the same MVP build unmetered.
 *
 * Per workload and variant: a fresh instance per repetition (as the executor does), the call to
 * `refine` timed alone, warm-up runs first, variants interleaved in rotating order, median of the
 * repetitions. Every variant must return the same checksum or the bench fails.
 *
 * Run: npm run build && npm run bench -- sandbox [--reps N] [--quick] [--overhead-only]
 * (`--overhead-only`: the overhead table alone, without the per-job and SandboxPool part; node flags
 * such as `--no-liftoff` apply when run as `node <flags> dist/bench/sandbox-overhead.js`)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { blake2b } from 'hash-wasm';
import { meterWASM } from 'wasm-metering';
import { SandboxPool, meterServiceCode, type RefineOutcome } from '@jam/sandbox';
import { compileAssemblyScript } from './assemblyscript.compiler';
import { repoRoot } from './repo-root';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = args.includes('--quick');
const OVERHEAD_ONLY = args.includes('--overhead-only');
const REPS = Number(flag('--reps') ?? (QUICK ? 3 : 7));
const WARMUP = QUICK ? 1 : 2;
/** Gas given to metered runs: large enough for every workload, so the limit never ends a run (gas). */
const BENCH_GAS = 1n << 62n;

interface Workload {
  name: string;
  what: string;
  source: string;
  /** refine(arg0, arg1) */
  arg0: number;
  arg1: number;
  /** Payload `jam.fetch(0, ...)` serves (blake2b). */
  payload: Uint8Array;
  /** refine returns (ptr << 32 | len) of an output instead of a checksum. */
  returnsOutput: boolean;
}

function deterministicBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function workloads(root: string): Workload[] {
  const w = (name: string): string => path.join(root, 'bench', 'workloads', `${name}.as`);
  const scale = QUICK ? 4 : 1;
  const none = new Uint8Array(0);
  return [
    {
      name: 'blake2b',
      what: `services/blake2b refine, ${4 / scale} MiB payload`,
      source: path.join(root, 'services', 'blake2b', 'assembly', 'index.ts'),
      arg0: (4 << 20) / scale,
      arg1: 0,
      payload: deterministicBytes((4 << 20) / scale, 7),
      returnsOutput: true,
    },
    {
      name: 'sort',
      what: `quicksort of ${1_000_000 / scale} u32`,
      source: w('sort'),
      arg0: 1_000_000 / scale,
      arg1: 12345,
      payload: none,
      returnsOutput: false,
    },
    { name: 'fib', what: `recursive fib(${QUICK ? 25 : 30})`, source: w('fib'), arg0: QUICK ? 25 : 30, arg1: 0, payload: none, returnsOutput: false },
    {
      name: 'expr-parser',
      what: `tokenize + evaluate ${2 / scale} MB of expressions`,
      source: w('expr-parser'),
      arg0: 2_000_000 / scale,
      arg1: 99,
      payload: none,
      returnsOutput: false,
    },
    {
      name: 'matmul',
      what: `u32 matrix product ${QUICK ? 120 : 200}x${QUICK ? 120 : 200}`,
      source: w('matmul'),
      arg0: QUICK ? 120 : 200,
      arg1: 5,
      payload: none,
      returnsOutput: false,
    },
    {
      name: 'sieve',
      what: `sieve of Eratosthenes to ${10 / scale}M`,
      source: w('sieve'),
      arg0: 10_000_000 / scale,
      arg1: 0,
      payload: none,
      returnsOutput: false,
    },
  ];
}

/** Host functions of docs/service-abi.md, minimal and identical for every variant: only `fetch` of the payload does anything. */
function hostImports(payload: Uint8Array, memory: () => WebAssembly.Memory): Record<string, unknown> {
  const none = (1n << 64n) - 1n;
  const what = (1n << 64n) - 2n;
  return {
    gas: () => 0n,
    fetch: (kind: number, _index: number, outPtr: number, offset: number, maxLen: number): bigint => {
      if (kind !== 0) return none;
      const from = Math.min(offset >>> 0, payload.length);
      const len = Math.min(maxLen >>> 0, payload.length - from);
      new Uint8Array(memory().buffer).set(payload.subarray(from, from + len), outPtr >>> 0);
      return BigInt(payload.length);
    },
    lookup: () => none,
    read: () => what,
    write: () => what,
    log: () => 0n,
  };
}

type VariantName = 'plain' | 'metered' | 'plain-mvp' | 'metered-mvp' | 'wasm-metering';

interface Variant {
  name: VariantName;
  module: WebAssembly.Module | undefined;
  /** Why the variant could not be built (wasm-metering failing on a module). */
  failed?: string;
  times: number[];
  checksum?: string;
  /** Gas used per run (ours) or gas counted by wasm-metering's host function. */
  gas?: bigint;
  /** Host calls per run (wasm-metering: one per executed block). */
  hostCalls?: number;
}

interface RunResult {
  ms: number;
  checksum: string;
  gas: bigint;
  hostCalls: number;
}

function runOnce(v: Variant, w: Workload): RunResult {
  let memory: WebAssembly.Memory | undefined;
  let used = 0;
  let calls = 0;
  const imports: Record<string, Record<string, unknown>> = { jam: hostImports(w.payload, () => memory as WebAssembly.Memory) };
  if (v.name === 'wasm-metering') {
    imports['metering'] = {
      usegas: (gas: number): void => {
        used += gas;
        calls++;
        if (used > Number.MAX_SAFE_INTEGER) throw new Error('out of gas');
      },
    };
  }
  const instance = new WebAssembly.Instance(v.module as WebAssembly.Module, imports);
  memory = instance.exports['memory'] as WebAssembly.Memory;
  const metered = v.name === 'metered' || v.name === 'metered-mvp';
  if (metered) (instance.exports['__jam_gas_set'] as (g: bigint) => void)(BENCH_GAS);
  const refine = instance.exports['refine'] as (a: number, b: number) => bigint;
  const t0 = process.hrtime.bigint();
  const r = BigInt.asUintN(64, refine(w.arg0, w.arg1));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let checksum = r.toString(16);
  if (w.returnsOutput) {
    const ptr = Number(r >> 32n);
    const len = Number(r & 0xffffffffn);
    checksum = Buffer.from(memory.buffer, ptr, len).toString('hex');
  }
  const gas = metered ? BENCH_GAS - (instance.exports['__jam_gas_get'] as () => bigint)() : BigInt(used);
  return { ms, checksum, gas, hostCalls: calls };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

const fmt = (x: number, d = 2): string => x.toFixed(d);

interface WorkloadResult {
  workload: Workload;
  variants: Map<VariantName, Variant>;
  /** The MVP build is byte-identical to the default one: its two overhead numbers show the run's noise. */
  sameBytes: boolean;
  /** Whether npm wasm-metering accepts the default (bulk memory + sign extension) build. */
  wasmMeteringOnDefault: string;
}

async function measureWorkload(w: Workload): Promise<WorkloadResult> {
  const full = await compileAssemblyScript(w.source, false);
  const mvp = await compileAssemblyScript(w.source, true);
  const variants = new Map<VariantName, Variant>();
  const add = (name: VariantName, bytes: () => Uint8Array): void => {
    try {
      variants.set(name, { name, module: new WebAssembly.Module(bytes()), times: [] });
    } catch (e) {
      variants.set(name, { name, module: undefined, failed: (e instanceof Error ? e.message : String(e)).split('\n')[0], times: [] });
    }
  };
  add('plain', () => full);
  add('metered', () => meterServiceCode(full));
  add('plain-mvp', () => mvp);
  add('metered-mvp', () => meterServiceCode(mvp));
  add('wasm-metering', () => meterWASM(mvp, { meterType: 'i32' }));

  const live = [...variants.values()].filter((v) => v.module !== undefined);
  for (let rep = -WARMUP; rep < REPS; rep++) {
    // rotate the order so no variant always runs first (caches, tier-up, noisy neighbours)
    const order = live.map((_, i) => live[(i + rep + WARMUP) % live.length] as Variant);
    for (const v of order) {
      let r: RunResult;
      try {
        r = runOnce(v, w);
      } catch (e) {
        v.failed = `trapped: ${e instanceof Error ? e.message : String(e)}`;
        v.module = undefined;
        continue;
      }
      if (rep >= 0) v.times.push(r.ms);
      v.checksum = r.checksum;
      v.gas = r.gas;
      v.hostCalls = r.hostCalls;
    }
    live.splice(0, live.length, ...live.filter((v) => v.module !== undefined));
  }
  const sums = new Set([...variants.values()].filter((v) => v.failed === undefined).map((v) => v.checksum));
  if (sums.size !== 1)
    throw new Error(`${w.name}: variants disagree on the result: ${[...variants.values()].map((v) => `${v.name}=${v.checksum ?? v.failed}`).join(', ')}`);
  let wasmMeteringOnDefault = 'ok';
  try {
    new WebAssembly.Module(meterWASM(full, { meterType: 'i32' }));
  } catch (e) {
    wasmMeteringOnDefault = `fails: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
  }
  return { workload: w, variants, wasmMeteringOnDefault, sameBytes: Buffer.from(full).equals(Buffer.from(mvp)) };
}

function timeOf(r: WorkloadResult, name: VariantName): number | undefined {
  const v = r.variants.get(name);
  return v === undefined || v.failed !== undefined || v.times.length === 0 ? undefined : median(v.times);
}

function printOverhead(results: WorkloadResult[]): void {
  console.log(`\n## Sandbox overhead (median of ${REPS} runs after ${WARMUP} warm-up, fresh instance per run, ms)\n`);
  console.log(
    '| workload | what | plain V8 | metered (ours) | overhead | gas used | plain, MVP build | wasm-metering, MVP build | its overhead | ours on the MVP build | advantage (time) | advantage (extra time) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const ours: number[] = [];
  const theirs: number[] = [];
  const oursMvp: number[] = [];
  for (const r of results) {
    const plain = timeOf(r, 'plain') as number;
    const metered = timeOf(r, 'metered') as number;
    const plainMvp = timeOf(r, 'plain-mvp');
    const meteredMvp = timeOf(r, 'metered-mvp');
    const wm = timeOf(r, 'wasm-metering');
    const o = metered / plain;
    ours.push(o);
    const om = plainMvp !== undefined && meteredMvp !== undefined ? meteredMvp / plainMvp : undefined;
    if (om !== undefined) oursMvp.push(om);
    const wo = plainMvp !== undefined && wm !== undefined ? wm / plainMvp : undefined;
    if (wo !== undefined) theirs.push(wo);
    const wmCell = wm === undefined ? `failed: ${r.variants.get('wasm-metering')?.failed ?? '?'}` : fmt(wm, 1);
    const adv = wo !== undefined && om !== undefined ? `${fmt(wo / om, 1)}x` : 'n/a';
    const advExtra = wo !== undefined && om !== undefined ? (om > 1 ? `${fmt((wo - 1) / (om - 1), 0)}x` : 'ours <= 1.00') : 'n/a';
    console.log(
      `| ${r.workload.name} | ${r.workload.what} | ${fmt(plain, 1)} | ${fmt(metered, 1)} | ${fmt(o)}x | ${r.variants.get('metered')?.gas ?? '?'} | ${plainMvp === undefined ? 'n/a' : fmt(plainMvp, 1)} | ${wmCell} | ${wo === undefined ? 'n/a' : fmt(wo) + 'x'} | ${om === undefined ? 'n/a' : fmt(om) + 'x'}${r.sameBytes ? ' (same bytes)' : ''} | ${adv} | ${advExtra} |`,
    );
  }
  console.log('\n## Where the overhead comes from (wasm-metering calls its host once per executed block)\n');
  console.log('| workload | blocks executed | ours: extra ns per block | ours: gas per block |');
  console.log('|---|---|---|---|');
  for (const r of results) {
    const blocks = r.variants.get('wasm-metering')?.hostCalls;
    const plain = timeOf(r, 'plain-mvp');
    const metered = timeOf(r, 'metered-mvp');
    const gas = r.variants.get('metered-mvp')?.gas;
    if (
      blocks === undefined ||
      blocks === 0 ||
      plain === undefined ||
      metered === undefined ||
      gas === undefined ||
      r.variants.get('wasm-metering')?.failed !== undefined
    ) {
      console.log(`| ${r.workload.name} | n/a | n/a | n/a |`);
      continue;
    }
    console.log(`| ${r.workload.name} | ${blocks} | ${fmt(((metered - plain) * 1e6) / blocks, 3)} | ${fmt(Number(gas) / blocks, 1)} |`);
  }
  console.log(`\ngeomean overhead wasm-metering (MVP builds, ${theirs.length} workloads): ${theirs.length > 0 ? fmt(geomean(theirs)) : 'n/a'}`);
  console.log(`geomean overhead ours on the same MVP builds: ${oursMvp.length > 0 ? fmt(geomean(oursMvp)) : 'n/a'}`);
  if (theirs.length > 0 && oursMvp.length > 0) {
    const g = geomean(oursMvp);
    const t = geomean(theirs);
    console.log(
      `advantage over wasm-metering: ${fmt(t / g, 1)}x less time, ${g > 1 ? fmt((t - 1) / (g - 1), 0) + 'x less extra time' : 'ours adds no measurable time'}`,
    );
  }
  for (const r of results) console.log(`wasm-metering on the default build of ${r.workload.name}: ${r.wasmMeteringOnDefault}`);
  console.log('("same bytes": that MVP build equals the default build, so its two overhead numbers differ only by noise)');
  console.log(`geomean overhead: ${fmt(geomean(ours))}`);
}

function stats(xs: number[]): { median: number; p99: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: median(s), p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] as number };
}

function timeUs(n: number, f: () => void): { median: number; p99: number } {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    f();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return stats(xs);
}

async function perJob(root: string): Promise<void> {
  const noop = await compileAssemblyScript(path.join(root, 'bench', 'workloads', 'noop.as'), false);
  const blake = await compileAssemblyScript(path.join(root, 'services', 'blake2b', 'assembly', 'index.ts'), false);
  const n = QUICK ? 300 : 2000;
  console.log(`\n## Per-job overhead (median / p99 of ${n} unless noted, µs)\n`);
  console.log('| step | module | plain V8 | metered (ours) |');
  console.log('|---|---|---|---|');
  for (const [name, code] of [
    ['noop', noop],
    ['blake2b', blake],
  ] as const) {
    const meter = timeUs(Math.min(n, 200), () => void meterServiceCode(code));
    console.log(`| meterServiceCode (validate + meter, once per code) | ${name} (${code.length} B) | - | ${fmt(meter.median, 1)} / ${fmt(meter.p99, 1)} |`);
    const metered = meterServiceCode(code);
    const cp = timeUs(Math.min(n, 200), () => void new WebAssembly.Module(code));
    const cm = timeUs(Math.min(n, 200), () => void new WebAssembly.Module(metered));
    console.log(
      `| compile (new WebAssembly.Module, lazy in Node 20; once per code) | ${name} | ${fmt(cp.median, 1)} / ${fmt(cp.p99, 1)} | ${fmt(cm.median, 1)} / ${fmt(cm.p99, 1)} |`,
    );
    const mp = new WebAssembly.Module(code);
    const mm = new WebAssembly.Module(metered);
    const imports = { jam: hostImports(new Uint8Array(0), () => undefined as unknown as WebAssembly.Memory) };
    const ip = timeUs(n, () => void new WebAssembly.Instance(mp, imports));
    const im = timeUs(n, () => void new WebAssembly.Instance(mm, imports));
    console.log(`| instantiate (every job) | ${name} | ${fmt(ip.median, 1)} / ${fmt(ip.p99, 1)} | ${fmt(im.median, 1)} / ${fmt(im.p99, 1)} |`);
    if (name === 'noop') {
      const rp = timeUs(n, () => void (new WebAssembly.Instance(mp, imports).exports['refine'] as (a: number, b: number) => bigint)(0, 0));
      const rm = timeUs(n, () => {
        const inst = new WebAssembly.Instance(mm, imports);
        (inst.exports['__jam_gas_set'] as (g: bigint) => void)(1_000_000n);
        (inst.exports['refine'] as (a: number, b: number) => bigint)(0, 0);
      });
      console.log(`| instantiate + set gas + call refine | noop | ${fmt(rp.median, 1)} / ${fmt(rp.p99, 1)} | ${fmt(rm.median, 1)} / ${fmt(rm.p99, 1)} |`);
    }
  }

  const codeHash = '0x' + (await blake2b(noop, 256));
  const request = () => ({
    codeHash,
    code: noop,
    serviceId: 1,
    itemIndex: 0,
    payload: new Uint8Array(0),
    gasLimit: 1_000_000n,
    preimages: new Map<string, Uint8Array>(),
  });
  const poolJs = path.join(root, 'dist', 'libs', 'sandbox', 'src', 'sandbox.pool.js');
  const model = existsSync(poolJs) ? (/child_process/.test(readFileSync(poolJs, 'utf8')) ? 'child processes' : 'worker threads') : 'unknown';
  console.log(`\n## SandboxPool (trivial refine job: the noop service, empty payload; executors: ${model})\n`);
  console.log('| pool size | start (ms) | first job (ms, compiles) | round trip median / p99 (ms, one job in flight) | jobs/s (all in flight) |');
  console.log('|---|---|---|---|---|');
  for (const size of [1, 2]) {
    const pool = new SandboxPool({ size });
    const t0 = process.hrtime.bigint();
    await pool.start();
    const startMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    const first: RefineOutcome = await pool.refine(request());
    const firstMs = Number(process.hrtime.bigint() - t1) / 1e6;
    if (!('ok' in first.result)) throw new Error(`noop job did not return ok: ${JSON.stringify(Object.keys(first.result))}`);
    for (let i = 0; i < 200; i++) await pool.refine(request());
    const rtt: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await pool.refine(request());
      rtt.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const jobs = QUICK ? 2000 : 10000;
    const t2 = process.hrtime.bigint();
    const outcomes = await Promise.all(Array.from({ length: jobs }, () => pool.refine(request())));
    const secs = Number(process.hrtime.bigint() - t2) / 1e9;
    const notOk = outcomes.filter((o) => !('ok' in o.result)).length;
    if (notOk > 0) throw new Error(`${notOk} pool jobs did not return ok`);
    await pool.close();
    const s = stats(rtt);
    console.log(`| ${size} | ${fmt(startMs, 1)} | ${fmt(firstMs, 2)} | ${fmt(s.median, 3)} / ${fmt(s.p99, 3)} | ${fmt(jobs / secs, 0)} |`);
  }
}

async function main(): Promise<void> {
  const root = repoRoot();
  console.log(
    `sandbox bench: node ${process.version}${process.execArgv.length > 0 ? ` ${process.execArgv.join(' ')}` : ''}, ${process.platform}/${process.arch}, ${(await import('node:os')).cpus().length} cpus, ${new Date().toISOString()}${QUICK ? ', QUICK (smaller inputs)' : ''}`,
  );
  const results: WorkloadResult[] = [];
  for (const w of workloads(root)) {
    process.stderr.write(`measuring ${w.name}...\n`);
    results.push(await measureWorkload(w));
  }
  printOverhead(results);
  if (!OVERHEAD_ONLY) await perJob(root);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
