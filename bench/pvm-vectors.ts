/**
 * PVM engine: the 307 official PVM test vectors (test/fixtures/jam-vectors/pvm) through the
 * product's PVM machine, one table row per vector and the line `pvm vectors: N/307 passed`; then
 * the machine's speed on a counting loop assembled here (3 instructions, so 3 gas, per iteration:
 * add_64, add_imm_64, branch_ne_imm), as instructions/s and ns per gas. Results: docs/performance.md,
 * "PVM engines".
 *
 * Run: npm run build && npm run bench -- pvm-vectors [--iterations N] [--reps R]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeCodeBlob, runPvm, runPvmVector } from '@jam/sandbox';
import { repoRoot } from './repo-root';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * Generic program blob (GP A.2): r7 = n; fallthrough; loop: r8 = r7 + r8; r7 = r7 - 1;
 * branch to loop if r7 != 0; jump [r0] (r0 = 2^32 - 2^16: halt).
 */
export function countingLoop(n: number): Uint8Array {
  const imm = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  const code = [0x33, 0x07, ...imm, 0x01, 0xc8, 0x87, 0x08, 0x95, 0x77, 0xff, 0x52, 0x07, 0xfa, 0x32, 0x00];
  // instruction starts at 0, 6, 7, 10, 13, 16
  return Uint8Array.from([0, 0, code.length, ...code, 0xc1, 0x24, 0x01]);
}

function vectors(): number {
  const dir = path.join(repoRoot(), 'test', 'fixtures', 'jam-vectors', 'pvm', 'programs');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  let passed = 0;
  console.log(`${'vector'.padEnd(56)} ${'expected'.padEnd(10)} ${'got'.padEnd(10)} ${'gas'.padStart(5)}  result`);
  for (const f of files) {
    const r = runPvmVector(readFileSync(path.join(dir, f), 'utf8'));
    if (r.mismatches.length === 0) passed++;
    const verdict = r.mismatches.length === 0 ? 'pass' : `FAIL: ${r.mismatches.join('; ')}`;
    console.log(`${r.name.padEnd(56)} ${r.expectedStatus.padEnd(10)} ${r.status.padEnd(10)} ${String(r.gasUsed).padStart(5)}  ${verdict}`);
  }
  console.log(`pvm vectors: ${passed}/${files.length} passed`);
  return files.length - passed;
}

function speed(): void {
  const iterations = arg('--iterations', 2_000_000);
  const reps = arg('--reps', 3);
  const program = countingLoop(iterations);
  const blob = decodeCodeBlob(program);
  const registers = [0xffff0000n, ...Array<bigint>(12).fill(0n)];
  const gas = 10n ** 12n;
  for (let rep = 0; rep < reps; rep++) {
    const t0 = process.hrtime.bigint();
    const r = runPvm(
      { kind: 'generic', bytes: program, blob, pc: 0, registers, pages: [], chunks: [] },
      gas,
      () => 'panic',
      (x) => x,
    );
    const ns = Number(process.hrtime.bigint() - t0);
    const used = Number(gas - r.gasLeft);
    const expected = (BigInt(iterations) * BigInt(iterations + 1)) / 2n;
    if (r.exit !== 'halt' || r.registers[8] !== expected) throw new Error(`loop ended ${r.exit} with r8 = ${r.registers[8]}, expected halt with ${expected}`);
    console.log(
      `pvm speed: counting loop, ${iterations} iterations: ${used} gas (= instructions) in ${(ns / 1e6).toFixed(0)} ms: ` +
        `${((used / ns) * 1e3).toFixed(1)} M instructions/s, ${(ns / used).toFixed(1)} ns/gas`,
    );
  }
}

const failed = vectors();
if (!process.argv.includes('--no-speed')) speed();
process.exitCode = failed === 0 ? 0 : 1;
