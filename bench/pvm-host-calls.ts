/**
 * PVM refine host calls: does gas bound time? For each call with work beyond GP's flat 10 gas
 * (copies, inner machines), a refine made of many such calls runs through the product's PVM
 * refine (executePvmRefine), and its wall time per gas is compared with a plain instruction loop's
 * in the same run (interleaved rounds, median of each). A ratio at or under 1 means the call's
 * price covers its time at least as well as instructions do. Results: docs/performance.md,
 * "PVM refine host calls".
 *
 * Run: npm run build && npm run bench -- pvm-host-calls [--rounds R]
 */
import { encodeWorkPackage } from '@jam/domain';
import { executePvmRefine, preparePvmService, type PvmServiceCode } from '../libs/sandbox/src/pvm/pvm.executor';
import type { RefineJob } from '../libs/sandbox/src/service.executor';
import { codeBlob, ecalli, hostCallScript, RO_DATA_ADDRESS, RW_DATA_ADDRESS, spinService, type HostCallStep } from '../libs/sandbox/test/pvm-service.builder';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const B = BigInt;
const MIB = 1 << 20;
const repeat = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);
/** Inner program: `ecalli 0; jump back to it` (every invoke exits at the host call after 1 gas). */
const INNER = codeBlob([ecalli(0), [0x28, 0xfe]]);
const machine = { call: 8, regs: { 7: B(RO_DATA_ADDRESS), 8: B(INNER.length), 9: 0n } };
const pages = (first: bigint, count: bigint, mode: bigint) => ({ call: 11, regs: { 7: 0n, 8: first, 9: count, 10: mode } });

interface Scenario {
  name: string;
  code: PvmServiceCode;
  gasLimit: bigint;
}

function script(name: string, steps: HostCallStep[], roData: Uint8Array, extraRw = 0): Scenario {
  const rwData = new Uint8Array(16 * steps.length + extraRw);
  // the invoke block (E8(gas) ++ 13 registers) sits right after the result slots
  if (extraRw >= 112) new DataView(rwData.buffer).setBigUint64(16 * steps.length, 1n << 40n, true);
  return { name, code: preparePvmService(hostCallScript(steps, { roData, rwData })), gasLimit: 5_000_000_000n };
}

function scenarios(): Scenario[] {
  const n = 200;
  const data = (steps: number) => B(RW_DATA_ADDRESS + 16 * steps);
  const big = 64;
  const segment = new Uint8Array(8192).fill(7);
  return [
    { name: 'instructions (spin loop)', code: preparePvmService(spinService()), gasLimit: 20_000_000n },
    script('gas (no work beyond the call)', repeat(n, { call: 0, regs: {} }), Uint8Array.of(0)),
    script('fetch 134 B (constants)', repeat(n, { call: 1, regs: { 7: data(n), 8: 0n, 9: 134n, 10: 0n } }), Uint8Array.of(0), 256),
    script('export 4,104 B', repeat(n, { call: 7, regs: { 7: B(RO_DATA_ADDRESS), 8: 4104n } }), segment),
    script('machine + expunge', repeat(n / 2, [machine, { call: 13, regs: { 7: 0n } }]).flat(), INNER),
    script('peek 1 MiB', [machine, pages(16n, 256n, 2n), ...repeat(big, { call: 9, regs: { 7: 0n, 8: data(big + 2), 9: 0x10000n, 10: B(MIB) } })], INNER, MIB),
    script('poke 1 MiB', [machine, pages(16n, 256n, 2n), ...repeat(big, { call: 10, regs: { 7: 0n, 8: data(big + 2), 9: 0x10000n, 10: B(MIB) } })], INNER, MIB),
    script('pages: rebuild a 1 MiB machine', [machine, pages(16n, 256n, 2n), ...repeat(big, pages(16n, 256n, 4n))], INNER),
    script('invoke to a host-call exit', [machine, ...repeat(n, { call: 12, regs: { 7: 0n, 8: data(n + 1) } })], INNER, 112),
  ];
}

function job(gasLimit: bigint): RefineJob {
  return { itemIndex: 0, payload: new Uint8Array(0), gasLimit, preimages: new Map(), serviceId: 0, exportOffset: 0, workPackage: encodeWorkPackage(pkg()) };
}

function pkg() {
  const zero = new Uint8Array(32);
  return {
    authorization: new Uint8Array(0),
    auth_code_host: 0,
    auth_code_hash: zero,
    authorizer_config: new Uint8Array(0),
    context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
    items: [],
  };
}

function main(): void {
  const rounds = arg('--rounds', 5);
  const list = scenarios();
  const times = list.map((): number[] => []);
  const gas = list.map(() => 0n);
  const results = list.map(() => '');
  for (let r = 0; r < rounds; r++) {
    list.forEach((s, i) => {
      const t = process.hrtime.bigint();
      const out = executePvmRefine(s.code, job(s.gasLimit));
      times[i]!.push(Number(process.hrtime.bigint() - t));
      gas[i] = out.gasUsed;
      results[i] = Object.keys(out.result)[0]!;
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const nsPerGas = list.map((_, i) => median(times[i]!) / Number(gas[i]));
  console.log(
    `${'scenario'.padEnd(34)} ${'result'.padEnd(8)} ${'gas'.padStart(12)} ${'median ms'.padStart(10)} ${'ns/gas'.padStart(8)} ${'vs instr'.padStart(9)}`,
  );
  list.forEach((s, i) => {
    const row = [
      s.name.padEnd(34),
      results[i]!.padEnd(8),
      String(gas[i]).padStart(12),
      (median(times[i]!) / 1e6).toFixed(2).padStart(10),
      nsPerGas[i]!.toFixed(2).padStart(8),
      (nsPerGas[i]! / nsPerGas[0]!).toFixed(3).padStart(9),
    ];
    console.log(row.join(' '));
  });
}

main();
