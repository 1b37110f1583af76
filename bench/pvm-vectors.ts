/**
 * PVM engines: the 307 official PVM test vectors (test/fixtures/jam-vectors/pvm) through the
 * product's PVM machine on the interpreter and on the PVM-to-Wasm translator, one table row per
 * vector and the lines `pvm vectors: N/307 passed` (interpreter) and `pvm vectors (translator):
 * N/307 passed`; then both engines' speed, interleaved, on loops assembled here: a counting loop
 * (3 instructions, so 3 gas, per iteration: add_64, add_imm_64, branch_ne_imm) and a memory loop
 * (load_ind_u64, add_64, store_ind_u64, add_imm_64, and_imm, branch_ne_imm over one page), as
 * instructions/s and ns per gas, the translation (translate + compile) time included in the
 * translator's. Results: docs/performance.md, "PVM engines".
 *
 * Run: npm run build && npm run bench -- pvm-vectors [--iterations N] [--reps R]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeCodeBlob, runPvm, runPvmVector, type PvmEngineKind } from '@jam/sandbox';
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

/**
 * Generic program blob: r7 = n; loop: r8 = [r9 + 0] (u64); r8 += r7; [r9 + 0] = r8; r9 += 8;
 * r9 &= 0x20fff8 ... kept inside the page at 0x20000 by r9 = 0x20000 | (r9 & 0xff8); r7 -= 1;
 * branch to loop if r7 != 0; jump [r0] (halt). 8 gas per iteration, one load and one store.
 */
export function memoryLoop(n: number): Uint8Array {
  const imm = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  const code = [
    0x33,
    0x07,
    ...imm, // 0: load_imm r7, n
    0x01, // 6: fallthrough
    0x82,
    0x98, // 7: load_ind_u64 r8, [r9]
    0xc8,
    0x87,
    0x08, // 9: add_64 r8 = r8 + r7
    0x7b,
    0x98, // 12: store_ind_u64 [r9] = r8
    0x95,
    0x99,
    0x08, // 14: add_imm_64 r9 = r9 + 8
    0x84,
    0x99,
    0xf8,
    0x0f, // 17: and_imm r9 = r9 & 0xff8
    0x86,
    0x99,
    0x00,
    0x00,
    0x02, // 21: or_imm r9 = r9 | 0x20000
    0x95,
    0x77,
    0xff, // 26: add_imm_64 r7 = r7 - 1
    0x52,
    0x07,
    0xea, // 29: branch_ne_imm r7, 0, -> 7
    0x32,
    0x00, // 32: jump_ind [r0]
  ];
  const starts = [0, 6, 7, 9, 12, 14, 17, 21, 26, 29, 32];
  const mask = new Array<number>(Math.ceil(code.length / 8)).fill(0);
  for (const s of starts) mask[s >> 3]! |= 1 << (s & 7);
  return Uint8Array.from([0, 0, code.length, ...code, ...mask]);
}

function vectors(engine: PvmEngineKind): number {
  const dir = path.join(repoRoot(), 'test', 'fixtures', 'jam-vectors', 'pvm', 'programs');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  let passed = 0;
  console.log(`${'vector'.padEnd(56)} ${'expected'.padEnd(10)} ${'got'.padEnd(10)} ${'gas'.padStart(5)}  result`);
  for (const f of files) {
    const r = runPvmVector(readFileSync(path.join(dir, f), 'utf8'), engine);
    if (r.mismatches.length === 0) passed++;
    const verdict = r.mismatches.length === 0 ? 'pass' : `FAIL: ${r.mismatches.join('; ')}`;
    console.log(`${r.name.padEnd(56)} ${r.expectedStatus.padEnd(10)} ${r.status.padEnd(10)} ${String(r.gasUsed).padStart(5)}  ${verdict}`);
  }
  console.log(`pvm vectors${engine === 'interpreter' ? '' : ` (${engine})`}: ${passed}/${files.length} passed`);
  return files.length - passed;
}

interface Loop {
  name: string;
  program: Uint8Array;
  registers: bigint[];
  pages: { address: number; length: number; writable: boolean }[];
  check: (r: { registers: bigint[] }) => boolean;
}

function speed(): void {
  const iterations = arg('--iterations', 2_000_000);
  const reps = arg('--reps', 3);
  const n = BigInt(iterations);
  const loops: Loop[] = [
    {
      name: 'counting loop',
      program: countingLoop(iterations),
      registers: [0xffff0000n, ...Array<bigint>(12).fill(0n)],
      pages: [],
      check: (r) => r.registers[8] === (n * (n + 1n)) / 2n,
    },
    {
      name: 'memory loop',
      program: memoryLoop(iterations),
      registers: [0xffff0000n, ...Array<bigint>(8).fill(0n), 0x20000n, 0n, 0n, 0n],
      pages: [{ address: 0x20000, length: 4096, writable: true }],
      check: (r) => r.registers[7] === 0n,
    },
  ];
  const gas = 10n ** 12n;
  for (const loop of loops) {
    for (let rep = 0; rep < reps; rep++) {
      for (const engine of ['interpreter', 'translator'] as const) {
        const t0 = process.hrtime.bigint();
        const r = runPvm(
          { kind: 'generic', bytes: loop.program, blob: decodeCodeBlob(loop.program), pc: 0, registers: loop.registers, pages: loop.pages, chunks: [] },
          gas,
          () => 'panic',
          (x) => x,
          engine,
        );
        const ns = Number(process.hrtime.bigint() - t0);
        const used = Number(gas - r.gasLeft);
        if (r.exit !== 'halt' || !loop.check(r))
          throw new Error(`${loop.name} on the ${engine} ended ${r.exit} with r7 = ${r.registers[7]}, r8 = ${r.registers[8]}`);
        console.log(
          `pvm speed: ${loop.name}, ${engine.padEnd(11)}, ${iterations} iterations: ${used} gas (= instructions) in ${(ns / 1e6).toFixed(1)} ms: ` +
            `${((used / ns) * 1e3).toFixed(1)} M instructions/s, ${(ns / used).toFixed(2)} ns/gas`,
        );
      }
    }
  }
}

const failed = vectors('interpreter') + vectors('translator');
if (!process.argv.includes('--no-speed')) speed();
process.exitCode = failed === 0 ? 0 : 1;
