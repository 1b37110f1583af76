/**
 * GP accumulation: the 30 accumulate STF vectors (test/fixtures/jam-vectors/stf/accumulate/tiny)
 * through the GP 0.7.2 accumulation module (libs/sandbox/src/pvm/accumulate), one table row per
 * vector (reports given, gas the services used, wall time reading + STF) and the line
 * `accumulate vectors: N/30 passed`; then `--reps R` more timed passes over all 30 (ms per vector
 * reading the JSON and ms in the STF, median of the passes). Results: docs/performance.md, "GP accumulation".
 *
 * Run: npm run build && npm run bench -- accumulate-vectors [--reps R]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkAccumulateVector, initAccumulateHashing, parseAccumulateVector, runAccumulateVector } from '@jam/sandbox';
import { repoRoot } from './repo-root';

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
  const median = (x: number[]): string => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!.toFixed(1);
  if (reps > 0)
    console.log(
      `accumulate speed: ${reps} passes over ${files.length} vectors: median ${median(parsing)} ms reading the JSON, ${median(stf)} ms in the STF (+ comparison) per vector`,
    );
  process.exitCode = passed === files.length ? 0 : 1;
}

void main();
