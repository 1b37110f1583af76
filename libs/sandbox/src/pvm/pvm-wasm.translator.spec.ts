import { createHash } from 'node:crypto';
import { decodeCodeBlob } from './pvm-program';
import { runPvm, type PvmEngineKind, type PvmHostContext, type PvmLoad } from './pvm.machine';
import { PVM_TRANSLATOR_MAX_SEGMENTS, PvmTranslationRefused, translatePvm } from './pvm-wasm.translator';

// Differential test of the PVM-to-Wasm translator against the interpreter (anan-as, the engine
// the 307 vectors were checked on): random programs of every opcode, with loads and stores around
// page edges and rights, branches, dynamic jumps, host calls and small gas budgets, must end with
// the same status, pc, gas, registers, memory and page-fault address on both engines (out of gas:
// status, pc and gas; pvm-wasm.machine.ts says why registers may differ there).

/** Small deterministic PRNG (xorshift32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 255);

const WRITABLE = 0x20000; // two writable pages
const READ_ONLY = 0x22000; // one read-only page
// No address here lets an access cross from one mapped page into another: after such an access
// anan-as 1.2.0 reads and writes stale bytes of that second page on later single-page accesses (its
// `Memory.chunksResult.secondPageEnd` is not reset), which the GP does not do; the translator does
// what the GP says (tested below). Crossings that fault (into an unmapped page) are generated.
const ADDRESSES = [0x20000, 0x20008, 0x20ff0, 0x21ff0, 0x22000, 0x22ffe, 0x23000, 0x1fffe, 0x10000, 0x100, 0xfffffffe, 0x20123];
const ALU = [
  100,
  102,
  103,
  104,
  105,
  106,
  107,
  108,
  109,
  110,
  111,
  ...Array.from({ length: 31 }, (_, i) => 131 + i),
  ...Array.from({ length: 41 }, (_, i) => 190 + i),
];

interface Item {
  bytes: number[];
  /** For control flow: index of the instruction the offset points to, patched after layout. */
  targetIndex?: number;
  /** Byte position of the 4-byte offset within `bytes`. */
  offsetAt?: number;
}

function program(next: () => number): { blob: Uint8Array; registers: bigint[]; gas: bigint } {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  const reg = (): number => (next() % 10 === 0 ? 13 + (next() % 3) : next() % 13);
  const imm = (): number[] => {
    const n = next() % 5;
    return Array.from({ length: n }, () => next() & 255);
  };
  const count = 4 + (next() % 30);
  const items: Item[] = [];
  for (let i = 0; i < count; i++) {
    const kind = next() % 20;
    const target = next() % (count + 1);
    if (kind < 7) {
      const op = pick(ALU);
      if (op < 120) items.push({ bytes: [op, (reg() << 4) | reg()] });
      else if (op < 190) items.push({ bytes: [op, (reg() << 4) | reg(), ...imm()] });
      else items.push({ bytes: [op, (reg() << 4) | reg(), reg()] });
    } else if (kind === 7) {
      items.push({ bytes: [51, reg(), ...le(pick([...ADDRESSES, 2, 4, 6, 0xffff0000]), 4)] });
    } else if (kind === 8) {
      items.push({ bytes: [20, reg(), ...Array.from({ length: 8 }, () => next() & 255)] });
    } else if (kind === 9) {
      const op = 52 + (next() % 11); // load_u8 .. store_u64 with an immediate address
      items.push({ bytes: [op, reg(), ...le(pick(ADDRESSES), 4)] });
    } else if (kind === 10) {
      const op = 30 + (next() % 4);
      items.push({ bytes: [op, 4, ...le(pick(ADDRESSES), 4), ...imm()] });
    } else if (kind === 11) {
      const op = 120 + (next() % 11); // store_ind / load_ind from a register base
      items.push({ bytes: [op, (reg() << 4) | reg(), ...le(next() % 8, 1)] });
    } else if (kind === 12) {
      const op = 70 + (next() % 4);
      items.push({ bytes: [op, (1 << 4) | reg(), next() % 8, ...imm()] });
    } else if (kind === 13) {
      const op = 81 + (next() % 10);
      items.push({ bytes: [op, (4 << 4) | reg(), ...le(next() % 8, 4), 0, 0, 0, 0], targetIndex: target, offsetAt: 6 });
    } else if (kind === 14) {
      const op = 170 + (next() % 6);
      items.push({ bytes: [op, (reg() << 4) | reg(), 0, 0, 0, 0], targetIndex: target, offsetAt: 2 });
    } else if (kind === 15) {
      items.push(
        next() % 2
          ? { bytes: [40, 0, 0, 0, 0], targetIndex: target, offsetAt: 1 }
          : { bytes: [80, (4 << 4) | reg(), ...le(next(), 4), 0, 0, 0, 0], targetIndex: target, offsetAt: 6 },
      );
    } else if (kind === 16) {
      const form = next() % 3;
      if (form === 0)
        items.push({ bytes: [50, reg()] }); // jump_ind [r]: halts when r = 2^32 - 2^16
      else if (form === 1) items.push({ bytes: [50, reg(), ...imm()] });
      else items.push({ bytes: [180, (reg() << 4) | reg(), 4, ...le(next() % 8, 4), ...imm()] });
    } else if (kind === 17) {
      items.push({ bytes: [10, next() % 4] });
    } else if (kind === 18) {
      if (next() % 2)
        items.push({ bytes: [pick([0, 1, 2, 250, 255])] }); // trap, fallthrough, invalid opcodes
      else items.push({ bytes: [51, 12, ...le(pick([0, 1, 4096, 5000, 65536, 0xffffffff]), 4)] }, { bytes: [101, (12 << 4) | reg()] }); // sbrk (anan-as's)
    } else {
      items.push({ bytes: [149, (reg() << 4) | reg(), ...imm()] });
    }
  }
  const pcs: number[] = [];
  let pc = 0;
  for (const it of items) {
    pcs.push(pc);
    pc += it.bytes.length;
  }
  pcs.push(pc);
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.targetIndex === undefined) continue;
    const off = next() % 12 === 0 ? (next() % 9) - 4 : pcs[it.targetIndex]! - pcs[i]!;
    it.bytes.splice(it.offsetAt!, 4, ...le(off >>> 0, 4));
  }
  const code = items.flatMap((it) => it.bytes);
  const starts = items.flatMap((it) => it.bytes.map((_, j) => (j === 0 ? 1 : 0)));
  const mask = new Array<number>(Math.ceil(code.length / 8)).fill(0);
  starts.forEach((s, i) => (mask[i >> 3]! |= s << (i & 7)));
  const jumps = Array.from({ length: 1 + (next() % 4) }, () => pcs[next() % items.length]!);
  const blob = [jumps.length, 4, ...compact(code.length), ...jumps.flatMap((j) => le(j, 4)), ...code, ...mask];
  const registers = Array.from({ length: 13 }, () => {
    const r = next() % 6;
    if (r === 0) return 0xffff0000n;
    if (r === 1) return BigInt(pick(ADDRESSES));
    if (r === 2) return BigInt(2 * (1 + (next() % 4)));
    if (r === 3) return (BigInt(next()) << 32n) | BigInt(next());
    if (r === 4) return 2n ** 64n - 1n - BigInt(next() % 3);
    return BigInt(next() % 100);
  });
  const gas = next() % 4 === 0 ? 20_000n : BigInt(next() % 120);
  return { blob: Uint8Array.from(blob), registers, gas };
}

function compact(n: number): number[] {
  if (n < 128) return [n];
  if (n < 16384) return [0x80 | (n >> 8), n & 255];
  throw new Error('code too long for the test encoder');
}

/** A host-call handler both engines see: changes registers and gas, writes memory, may panic. */
function host(ctx: PvmHostContext): void | 'panic' {
  if (ctx.index === 3) return 'panic';
  ctx.registers[7] = BigInt.asUintN(64, ctx.registers[7]! * 3n + BigInt(ctx.index));
  ctx.gasLeft -= BigInt(ctx.index);
  if (ctx.index === 1) ctx.write(WRITABLE + 16, Uint8Array.of(1, 2, 3, 4, 5));
  if (ctx.index === 2) ctx.registers[8] = BigInt(ctx.read(READ_ONLY, 4)?.[0] ?? 99);
}

function run(p: ReturnType<typeof program>, engine: PvmEngineKind) {
  const load: PvmLoad = {
    kind: 'generic',
    bytes: p.blob,
    blob: decodeCodeBlob(p.blob),
    pc: 0,
    registers: p.registers,
    pages: [
      { address: WRITABLE, length: 8192, writable: true },
      { address: READ_ONLY, length: 4096, writable: false },
    ],
    chunks: [
      { address: WRITABLE + 4090, data: Uint8Array.from({ length: 20 }, (_, i) => i * 13) },
      { address: READ_ONLY, data: Uint8Array.of(0x80, 0xff, 0x7f, 0x01, 0xaa) },
    ],
  };
  return runPvm(load, p.gas, host, (r, m) => ({ ...r, memory: createHash('sha256').update(m.readMemory(WRITABLE, 12288)!).digest('hex') }), engine);
}

describe('PVM-to-Wasm translator', () => {
  it('agrees with the interpreter on 1,000 random programs (status, pc, gas, registers, memory, fault address)', () => {
    const next = rng(20261208);
    const statuses = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const p = program(next);
      const a = run(p, 'interpreter');
      const b = run(p, 'translator');
      // the translator maps sbrk's pages when asked, the interpreter when touched: only the
      // translator can end a run at the memory cap for pages never touched (docs/sandbox.md)
      if (b.memoryLimit === true) continue;
      const ctx = `program ${i}: ${Buffer.from(p.blob).toString('hex')} regs ${p.registers.join(',')} gas ${p.gas}`;
      if (a.exit === 'out-of-gas') {
        expect({ ctx, exit: b.exit, pc: b.pc, gas: b.gasLeft }).toEqual({ ctx, exit: a.exit, pc: a.pc, gas: a.gasLeft });
      } else {
        expect({ ctx, ...b }).toEqual({ ctx, ...a });
      }
      statuses.set(a.exit, (statuses.get(a.exit) ?? 0) + 1);
    }
    // the generator reaches every exit often enough to mean something
    for (const s of ['halt', 'panic', 'page-fault', 'out-of-gas']) expect(statuses.get(s) ?? 0).toBeGreaterThan(5);
  });

  it('keeps memory exact after an access that crosses a page boundary (GP 0.7.2 A.1: memory is bytes, pages only guard access)', () => {
    // store_imm_u64 [0x20ffe] = -46 (crosses into 0x21000); load_u16 r12 = [0x20008]; trap
    const code = [33, 4, 0xfe, 0x0f, 0x02, 0x00, 0xd2, 54, 12, 0x08, 0x00, 0x02, 0x00, 0];
    const mask = [0b10000001, 0b00100000];
    const blob = Uint8Array.from([0, 0, code.length, ...code, ...mask]);
    const r = runPvm(
      {
        kind: 'generic',
        bytes: blob,
        blob: decodeCodeBlob(blob),
        pc: 0,
        registers: Array<bigint>(13).fill(7n),
        pages: [{ address: WRITABLE, length: 8192, writable: true }],
        chunks: [],
      },
      100n,
      () => 'panic',
      (x, m) => ({ exit: x.exit, r12: x.registers[12], gasLeft: x.gasLeft, bytes: Buffer.from(m.readMemory(0x20ffe, 8)!).toString('hex') }),
      'translator',
    );
    expect(r).toEqual({ exit: 'panic', r12: 0n, gasLeft: 97n, bytes: 'd2ffffffffffffff' });
  });

  it('refuses a program over its segment cap (the interpreter runs it) and translates one under it', () => {
    const n = PVM_TRANSLATOR_MAX_SEGMENTS + 1; // that many `fallthrough`s: one segment each
    const over = decodeCodeBlob(
      Uint8Array.from([
        0,
        0,
        ...[0xc0 | (n >> 16), n & 255, (n >> 8) & 255],
        ...Array<number>(n).fill(1),
        ...Array<number>(Math.ceil(n / 8))
          .fill(0)
          .map((_, i) => (i === Math.ceil(n / 8) - 1 && n % 8 ? (1 << (n % 8)) - 1 : 255)),
      ]),
    );
    expect(() => translatePvm(over)).toThrow(PvmTranslationRefused);
    const plain = decodeCodeBlob(Uint8Array.from([0, 0, 3, 101, 0x87, 0, 0b0011]));
    expect(translatePvm(plain).wasm.length).toBeGreaterThan(0);
  });
});
