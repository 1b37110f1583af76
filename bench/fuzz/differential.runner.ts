/**
 * Differential check of the metered engine: the same module run plain (V8) and metered
 * (`meterServiceCode` output, gas limit 2^62) must return the same values, trap with the same
 * message, log the same values and leave the same memory, on every exported function called with
 * fixed arguments; the metered run is repeated to check that gas use is deterministic.
 * Modules come from bench/fuzz/fuzz-modules.mjs (binaryen translate-to-fuzz, made service-valid).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { meterServiceCode } from '@jam/sandbox';
import { repoRoot } from '../repo-root';

/** One fuzz case: input seed and size (bytes of random input to translate-to-fuzz). */
export interface FuzzCaseSpec {
  seed: number;
  size: number;
}

export interface FuzzExport {
  name: string;
  params: ('i32' | 'i64')[];
  result: 'i32' | 'i64' | 'none';
}

/** A generated module, or why generation failed. */
export interface FuzzCase extends FuzzCaseSpec {
  ok: boolean;
  reason?: string;
  exports: FuzzExport[];
  /** Float expressions the rewrite replaced (see fuzz-modules.mjs). */
  replaced: number;
  bytes?: Uint8Array;
}

export type CaseStatus = 'same' | 'mismatch' | 'not-generated' | 'rejected';

export interface CaseResult {
  spec: FuzzCaseSpec;
  status: CaseStatus;
  /** Generation failure, validator rejection, or the first difference found. */
  detail?: string;
  calls: number;
  traps: number;
  /** Calls where plain V8 ran out of native stack: not comparable (V8's limit is not deterministic). */
  stackExhausted: number;
  gasUsed: bigint;
}

/** Fixed arguments: the i-th parameter gets FIXED_ARGS[i % length]. */
const FIXED_ARGS = [0n, 1n, -1n, 0x7fffffffn, 65535n, -2147483648n, 42n, 1024n];
/** Gas limit of metered runs: never reached by a fuzz case, so metering must not change the outcome (gas). */
const FUZZ_GAS = 1n << 62n;

/**
 * Generates the cases in one child process (binaryen.js is ESM with top-level await).
 * @throws Error if the generator process fails as a whole
 */
export function generateFuzzCases(specs: FuzzCaseSpec[]): FuzzCase[] {
  const out = mkdtempSync(path.join(tmpdir(), 'jam-fuzz-cases-'));
  try {
    const script = path.join(repoRoot(), 'bench', 'fuzz', 'fuzz-modules.mjs');
    const r = spawnSync(process.execPath, [script, '--out', out, '--cases', JSON.stringify(specs)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`fuzz-modules.mjs exited ${r.status ?? r.signal}: ${r.stderr.slice(0, 2000)}`);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as FuzzCase[];
    return manifest.map((c, i) => (c.ok ? { ...c, bytes: new Uint8Array(readFileSync(path.join(out, `case-${i}.wasm`))) } : c));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

interface CallOutcome {
  result: string;
  memory: string;
  logged: string;
  gas: bigint;
}

function callOnce(module: WebAssembly.Module, metered: boolean, e: FuzzExport): CallOutcome {
  const instance = new WebAssembly.Instance(module, {});
  if (metered) (instance.exports['__jam_gas_set'] as (g: bigint) => void)(FUZZ_GAS);
  const fn = instance.exports[e.name] as (...a: (number | bigint)[]) => unknown;
  const args = e.params.map((t, i) => {
    const v = FIXED_ARGS[i % FIXED_ARGS.length] as bigint;
    return t === 'i64' ? v : Number(BigInt.asIntN(32, v));
  });
  let result: string;
  try {
    result = `ok:${String(fn(...args))}`;
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) result = 'stack';
    else if (err instanceof WebAssembly.RuntimeError) result = `trap:${err.message}`;
    else throw err;
  }
  const memory = createHash('sha256')
    .update(new Uint8Array((instance.exports['memory'] as WebAssembly.Memory).buffer))
    .digest('hex');
  // refine returns the accumulator the fuzzer's log-* calls fold into (fuzz-modules.mjs)
  const logged = String((instance.exports['refine'] as (a: number, b: number) => bigint)(0, 0));
  const gas = metered ? FUZZ_GAS - (instance.exports['__jam_gas_get'] as () => bigint)() : 0n;
  return { result, memory, logged, gas };
}

/** Runs one case plain and metered and compares (see the file header). */
export function runDifferential(c: FuzzCase): CaseResult {
  const spec = { seed: c.seed, size: c.size };
  const base: CaseResult = { spec, status: 'same', calls: 0, traps: 0, stackExhausted: 0, gasUsed: 0n };
  if (!c.ok || c.bytes === undefined) return { ...base, status: 'not-generated', detail: c.reason ?? 'no module' };
  let meteredBytes: Uint8Array;
  try {
    meteredBytes = meterServiceCode(c.bytes);
  } catch (e) {
    return { ...base, status: 'rejected', detail: e instanceof Error ? e.message : String(e) };
  }
  const plain = new WebAssembly.Module(c.bytes);
  const metered = new WebAssembly.Module(meteredBytes);
  for (const e of c.exports) {
    const p = callOnce(plain, false, e);
    const m1 = callOnce(metered, true, e);
    const m2 = callOnce(metered, true, e);
    base.calls++;
    if (p.result === 'stack' || m1.result === 'stack') {
      base.stackExhausted++;
      continue;
    }
    if (p.result.startsWith('trap:')) base.traps++;
    base.gasUsed += m1.gas;
    const diff =
      p.result !== m1.result
        ? `result: plain ${p.result}, metered ${m1.result}`
        : p.memory !== m1.memory
          ? 'final memory differs'
          : p.logged !== m1.logged
            ? `logged values differ: plain ${p.logged}, metered ${m1.logged}`
            : m1.gas !== m2.gas || m1.result !== m2.result
              ? `metered runs differ: gas ${m1.gas} vs ${m2.gas}, ${m1.result} vs ${m2.result}`
              : undefined;
    if (diff !== undefined) return { ...base, status: 'mismatch', detail: `export ${e.name}(${e.params.join(', ')}): ${diff}` };
  }
  return base;
}
