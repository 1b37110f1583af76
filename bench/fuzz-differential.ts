/**
 * Differential fuzzing campaign: N random modules (binaryen translate-to-fuzz, made service-valid
 * by bench/fuzz/fuzz-modules.mjs) run plain and metered; every exported function's result or
 * trap, final memory and logged values must match, and metered gas must repeat exactly.
 * Case i uses input seed (seed * 1000003 + i) mod 2^32 and size 256 + (i * 7919 mod size) bytes,
 * so `--seed S --cases N` is reproducible and a failing case can be re-run alone.
 *
 * Run: npm run build && npm run bench -- fuzz [--cases 500] [--seed 1] [--size 8192]
 */
import { generateFuzzCases, runDifferential, type CaseResult, type FuzzCaseSpec } from './fuzz/differential.runner';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return v;
};
const CASES = flag('--cases', 500);
const SEED = flag('--seed', 1);
const SIZE = Math.max(1, flag('--size', 8192));
const BATCH = 50;

/** Input seed and size of case i of a campaign. */
export function campaignCase(seed: number, i: number, size: number): FuzzCaseSpec {
  return { seed: (seed * 1000003 + i) >>> 0, size: 256 + ((i * 7919) % size) };
}

function main(): void {
  const t0 = Date.now();
  const results: CaseResult[] = [];
  for (let start = 0; start < CASES; start += BATCH) {
    const specs = Array.from({ length: Math.min(BATCH, CASES - start) }, (_, k) => campaignCase(SEED, start + k, SIZE));
    for (const c of generateFuzzCases(specs)) results.push(runDifferential(c));
    process.stderr.write(`fuzz: ${results.length}/${CASES} cases, ${results.filter((r) => r.status === 'mismatch').length} mismatches\n`);
  }
  const count = (s: CaseResult['status']): number => results.filter((r) => r.status === s).length;
  const compared = results.filter((r) => r.status === 'same' || r.status === 'mismatch');
  const sum = (f: (r: CaseResult) => number): number => compared.reduce((a, r) => a + f(r), 0);
  const reasons = new Map<string, number>();
  for (const r of results)
    if (r.status === 'rejected' || r.status === 'not-generated')
      reasons.set(`${r.status}: ${r.detail ?? '?'}`, (reasons.get(`${r.status}: ${r.detail ?? '?'}`) ?? 0) + 1);
  console.log(
    `fuzz campaign: node ${process.version}, seed ${SEED}, ${CASES} cases, input 256..${256 + SIZE - 1} bytes, ${((Date.now() - t0) / 1000).toFixed(1)} s, ${new Date().toISOString()}`,
  );
  console.log(
    '| cases | compared | same | mismatch | rejected by validator | not generated | export calls | traps (same on both) | plain V8 stack exhausted (skipped) | gas used (metered, total) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  console.log(
    `| ${CASES} | ${compared.length} | ${count('same')} | ${count('mismatch')} | ${count('rejected')} | ${count('not-generated')} | ${sum((r) => r.calls)} | ${sum((r) => r.traps)} | ${sum((r) => r.stackExhausted)} | ${compared.reduce((a, r) => a + r.gasUsed, 0n)} |`,
  );
  for (const [reason, n] of reasons) console.log(`  ${n} x ${reason}`);
  for (const r of results.filter((x) => x.status === 'mismatch')) console.log(`MISMATCH seed ${r.spec.seed} size ${r.spec.size}: ${r.detail ?? ''}`);
  if (count('mismatch') > 0) process.exitCode = 1;
}

main();
