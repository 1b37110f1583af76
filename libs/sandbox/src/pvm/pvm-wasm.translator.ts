/**
 * PVM-to-WebAssembly translator: turns a generic program blob (GP 0.7.2 appendix A.2) into one
 * Wasm module that V8 compiles, so PVM code runs at machine speed instead of through an
 * interpreter (docs/sandbox.md, "PVM engine"; docs/performance.md section 13).
 *
 * Shape of the module (function `run(segment) -> exit status`):
 * - The code is cut into segments: straight-line runs of instructions that start at a basic block
 *   start, after an `ecalli` or at an entry pc, and end at a terminator, an `ecalli`, an invalid
 *   instruction or the next segment start. A segment's gas (one per instruction, GP 0.7.2 A.1) is
 *   taken on entry, as PolkaVM charges a block (`crates/polkavm`); the only check is at its end
 *   (gas < 0: out of gas). Where the interpreter would have stopped inside the segment (out of gas
 *   before a fault, or part way) the machine (pvm-wasm.machine.ts) rebuilds exactly what the
 *   interpreter reports from the segment's instruction list: same status, pc and gas.
 * - Dispatch: a `loop` over nested `block`s and one `br_table` on the segment index; straight
 *   fall-through between consecutive segments; static jumps and branches are checked against the
 *   basic block starts at translation, dynamic jumps through a table in memory.
 * - The 13 registers are i64 locals, loaded from and stored to memory (STATE) on entry and exit:
 *   a host call reads and writes them there, in place.
 * - Guest memory: two page tables in the Wasm memory (one i32 per 4 KiB PVM page: the frame's
 *   offset, or 0) for reading and writing. An access within one page whose table entry is set is a
 *   plain Wasm load/store; anything else (unmapped, read-only, crossing a page) calls the host's
 *   slow path, which answers or reports the fault, and the run exits at that access (a `site`).
 *
 * `sbrk` (anan-as keeps it; polkatool's services use it) calls the host, which maps heap pages.
 * Translation is linear in the code size and capped (PVM_TRANSLATOR_MAX_*); over a cap the
 * program is refused (`PvmTranslationRefused`) and the caller keeps the interpreter for it.
 */
import {
  ArgKind,
  decodeAt,
  ECALLI,
  NOT_AN_INSTRUCTION,
  prepareCode,
  SBRK,
  TERMINATOR_OPCODES,
  type DecodedCode,
  type PvmInstruction,
} from './pvm-wasm.decoder';
import type { PvmCodeBlob } from './pvm-program';

/** Exit status returned by the translated `run` (the host's view; pvm-wasm.machine.ts). */
export enum WasmExit {
  Halt = 0,
  Panic = 1,
  Host = 2,
  /** A memory access the fast path could not do: faulted (details from the slow path) at site `xarg`. */
  Site = 3,
  /** Gas ran out inside segment `xarg` (gas is negative: gas + segment cost = gas at its entry). */
  OutOfGas = 4,
  BadEntry = 5,
}

/** Byte offsets in the Wasm memory (bytes). */
export const STATE_REGS = 0;
export const STATE_GAS = 104;
/** Set to 1 by the host's slow path when an access faulted. */
export const STATE_FAULT = 112;
export const STATE_PC = 116;
export const STATE_ARG = 120;
/** Read page table: 2^20 entries of 4 bytes. */
export const READ_TABLE = 0x10000;
/** Write page table: 2^20 entries of 4 bytes. */
export const WRITE_TABLE = READ_TABLE + (1 << 22);
/** Jump table (segment index per entry, -1 when not a basic block start), then the page frames. */
export const JUMP_TABLE = WRITE_TABLE + (1 << 22);

/**
 * Largest code (bytes) the translator takes; over it the interpreter runs the program. Bounds the
 * translation's time on a cache miss (performance.md section 13: about 12 s for 2.1 MB of code at
 * load 14-27; real services are tens of KB).
 */
export const PVM_TRANSLATOR_MAX_CODE_BYTES = 512 * 1024;
/** Largest body of the translated `run` function (bytes); V8 refuses functions over 7,654,321. */
export const PVM_TRANSLATOR_MAX_BODY_BYTES = 6_000_000;
/**
 * Largest number of segments the translator takes (one nested Wasm block and one `br_table` entry
 * each): V8 took 11 s to compile a 60,000-segment function at load 25 (performance.md section 13).
 */
export const PVM_TRANSLATOR_MAX_SEGMENTS = 20_000;

/** The translator declines a program (`reason` is stable text); the interpreter runs it instead. */
export class PvmTranslationRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** One segment: its first pc, the pcs of its instructions (in order) and its gas (= their count). */
export interface Segment {
  pc: number;
  pcs: number[];
}

/** A memory access site: segment index and position of the access in it. */
export interface AccessSite {
  segment: number;
  index: number;
}

/** Result of `translatePvm`: the Wasm module bytes and what the machine needs to read its exits. */
export interface PvmTranslation {
  wasm: Uint8Array;
  segments: Segment[];
  /** Segment index of each segment's start pc. */
  segmentAt: Map<number, number>;
  sites: AccessSite[];
  /** Segment index for each jump table entry (-1: not a basic block start). */
  jumpSegments: Int32Array;
  /** Offset of the first page frame in the Wasm memory (bytes). */
  framesBase: number;
  code: DecodedCode;
}

// ---- Wasm binary encoding --------------------------------------------------------------------

/** A growable byte buffer (the translator's output; a number[] made translation several times slower). */
class Bytes {
  private buf = new Uint8Array(256);
  length = 0;
  readonly b = {
    push: (v: number): void => {
      if (this.length === this.buf.length) {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
      this.buf[this.length++] = v;
    },
  };
  push(...x: number[]): void {
    for (const v of x) this.b.push(v);
  }
  /** The bytes written so far (a view). */
  data(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  append(other: Uint8Array): void {
    if (this.length + other.length > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + other.length));
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf.set(other, this.length);
    this.length += other.length;
  }
  uleb(v: number): void {
    do {
      let byte = v & 0x7f;
      v = Math.floor(v / 128);
      if (v !== 0) byte |= 0x80;
      this.b.push(byte);
    } while (v !== 0);
  }
  /** Signed LEB128 of a 32-bit signed integer (the common case, without BigInt). */
  sleb32(v: number): void {
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        this.b.push(byte);
        return;
      }
      this.b.push(byte | 0x80);
    }
  }
  sleb(v: bigint): void {
    if (v >= -0x80000000n && v <= 0x7fffffffn) return this.sleb32(Number(v));
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
        this.b.push(byte);
        return;
      }
      this.b.push(byte | 0x80);
    }
  }
  vec(items: number[][]): void {
    this.uleb(items.length);
    for (const i of items) this.push(...i);
  }
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.push(id);
  out.uleb(body.length);
  out.append(body.data());
}

const I32 = 0x7f;
const I64 = 0x7e;
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  select: 0x1b,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32load: 0x28,
  i64load: 0x29,
  i64load8s: 0x30,
  i64load8u: 0x31,
  i64load16s: 0x32,
  i64load16u: 0x33,
  i64load32s: 0x34,
  i64load32u: 0x35,
  i32store: 0x36,
  i64store: 0x37,
  i64store8: 0x3c,
  i64store16: 0x3d,
  i64store32: 0x3e,
  i32const: 0x41,
  i64const: 0x42,
  i32eqz: 0x45,
  i32eq: 0x46,
  i32ltS: 0x48,
  i32gtU: 0x4b,
  i32geU: 0x4f,
  i64eqz: 0x50,
  i64eq: 0x51,
  i64ne: 0x52,
  i64ltS: 0x53,
  i64ltU: 0x54,
  i64gtS: 0x55,
  i64gtU: 0x56,
  i64leS: 0x57,
  i64leU: 0x58,
  i64geS: 0x59,
  i64geU: 0x5a,
  i32clz: 0x67,
  i32ctz: 0x68,
  i32popcnt: 0x69,
  i32add: 0x6a,
  i32sub: 0x6b,
  i32mul: 0x6c,
  i32divU: 0x6e,
  i32remS: 0x6f,
  i32remU: 0x70,
  i32and: 0x71,
  i32or: 0x72,
  i32shl: 0x74,
  i32shrS: 0x75,
  i32shrU: 0x76,
  i32rotl: 0x77,
  i32rotr: 0x78,
  i64clz: 0x79,
  i64ctz: 0x7a,
  i64popcnt: 0x7b,
  i64add: 0x7c,
  i64sub: 0x7d,
  i64mul: 0x7e,
  i64divS: 0x7f,
  i64divU: 0x80,
  i64remS: 0x81,
  i64remU: 0x82,
  i64and: 0x83,
  i64or: 0x84,
  i64xor: 0x85,
  i64shl: 0x86,
  i64shrS: 0x87,
  i64shrU: 0x88,
  i64rotl: 0x89,
  i64rotr: 0x8a,
  i32wrap: 0xa7,
  i64extendS: 0xac,
  i64extendU: 0xad,
  i64ext8: 0xc2,
  i64ext16: 0xc3,
  i64ext32: 0xc4,
} as const;

// function indices: imports first
const F_LOAD = 0;
const F_STORE = 1;
const F_SBRK = 2;
const F_RUN = 3;
const F_MULHU = 4;
const F_MULHS = 5;
const F_MULHSU = 6;
const F_BSWAP = 7;

// locals of `run`
const L_TARGET = 0; // param: segment to run
const R = (i: number): number => 1 + i; // registers, i64
const L_GAS = 14;
const L_T = 15; // i64 scratch (store value)
const L_A = 17; // i32 address
const L_E = 18; // i32 table entry
const L_STATUS = 19;
const L_XPC = 20;
const L_XARG = 21;

/** Emits the body of `run`; `extra` counts blocks opened inside the current segment's code. */
class RunEmitter {
  readonly c = new Bytes();
  extra = 0;
  seg = 0;
  readonly sites: AccessSite[] = [];
  constructor(
    private readonly count: number,
    private readonly blockSegment: (pc: number) => number,
  ) {}

  private depthDispatch(): number {
    return this.count - 1 - this.seg + this.extra;
  }
  private depthExit(): number {
    return this.depthDispatch() + 1;
  }
  op(...x: number[]): void {
    this.c.push(...x);
  }
  i32(v: number): void {
    this.c.push(OP.i32const);
    this.c.sleb32(v | 0);
  }
  i64(v: bigint): void {
    this.c.push(OP.i64const);
    this.c.sleb(BigInt.asIntN(64, v));
  }
  /** i64 constant of an immediate sign-extended from 32 bits (GP X_4). */
  sx(imm: number): void {
    this.c.push(OP.i64const);
    this.c.sleb32(imm | 0);
  }
  get(l: number): void {
    this.c.push(OP.get);
    this.c.uleb(l);
  }
  set(l: number): void {
    this.c.push(OP.set);
    this.c.uleb(l);
  }
  tee(l: number): void {
    this.c.push(OP.tee);
    this.c.uleb(l);
  }
  mem(op: number, offset: number): void {
    this.c.push(op, 0);
    this.c.uleb(offset);
  }
  open(kind: number, type = 0x40): void {
    this.c.push(kind, type);
    this.extra++;
  }
  close(): void {
    this.c.push(OP.end);
    this.extra--;
  }
  exit(status: WasmExit, pc: number, arg: number): void {
    this.i32(status);
    this.set(L_STATUS);
    this.i32(pc);
    this.set(L_XPC);
    this.i32(arg);
    this.set(L_XARG);
    this.c.push(OP.br);
    this.c.uleb(this.depthExit());
  }
  goSegment(index: number): void {
    this.i32(index);
    this.set(L_TARGET);
    this.c.push(OP.br);
    this.c.uleb(this.depthDispatch());
  }
  /** Static jump (GP 0.7.2 A.5: the target must be a basic block start, else panic at `pc`). */
  jump(pc: number, target: number): void {
    const s = this.blockSegment(target);
    if (s < 0) this.exit(WasmExit.Panic, pc, 0);
    else this.goSegment(s);
  }

  private accessSite(index: number): number {
    this.sites.push({ segment: this.seg, index });
    return this.sites.length - 1;
  }

  /** Address in L_A, table entry test: leaves "slow path needed" (i32) on the stack. */
  private slowTest(table: number, width: number): void {
    this.get(L_A);
    this.i32(12);
    this.op(OP.i32shrU);
    this.i32(2);
    this.op(OP.i32shl);
    this.mem(OP.i32load, table);
    this.tee(L_E);
    this.op(OP.i32eqz);
    if (width > 1) {
      this.get(L_A);
      this.i32(4095);
      this.op(OP.i32and);
      this.i32(4096 - width);
      this.op(OP.i32gtU);
      this.op(OP.i32or);
    }
  }
  private frameAddress(): void {
    this.get(L_E);
    this.get(L_A);
    this.i32(4095);
    this.op(OP.i32and);
    this.op(OP.i32add);
  }
  private faultCheck(site: number): void {
    this.i32(0);
    this.mem(OP.i32load, STATE_FAULT);
    this.open(OP.if);
    this.exit(WasmExit.Site, 0, site);
    this.close();
  }

  /** Loads `width` bytes at L_A (signed: sign-extended) into register `dst`. */
  load(index: number, dst: number, width: number, signed: boolean): void {
    const site = this.accessSite(index);
    this.slowTest(READ_TABLE, width);
    this.open(OP.if, I64);
    this.get(L_A);
    this.i32(width);
    this.op(OP.call, F_LOAD);
    this.faultCheck(site);
    if (signed) this.op(width === 1 ? OP.i64ext8 : width === 2 ? OP.i64ext16 : OP.i64ext32);
    this.c.push(OP.else);
    this.frameAddress();
    const ops: Record<number, number> = signed
      ? { 1: OP.i64load8s, 2: OP.i64load16s, 4: OP.i64load32s }
      : { 1: OP.i64load8u, 2: OP.i64load16u, 4: OP.i64load32u, 8: OP.i64load };
    this.mem(ops[width]!, 0);
    this.close();
    this.set(R(dst));
  }

  /** Stores the low `width` bytes of L_T at L_A. */
  store(index: number, width: number): void {
    const site = this.accessSite(index);
    this.slowTest(WRITE_TABLE, width);
    this.open(OP.if);
    this.get(L_A);
    this.i32(width);
    this.get(L_T);
    this.op(OP.call, F_STORE);
    this.open(OP.if);
    this.exit(WasmExit.Site, 0, site);
    this.close();
    this.c.push(OP.else);
    this.frameAddress();
    this.get(L_T);
    const ops: Record<number, number> = { 1: OP.i64store8, 2: OP.i64store16, 4: OP.i64store32, 8: OP.i64store };
    this.mem(ops[width]!, 0);
    this.close();
  }

  /** sbrk (anan-as's, not in GP 0.7.2): the host grows the heap; a refusal ends the run at this site as a panic. */
  sbrk(index: number, dst: number, amount: number): void {
    const site = this.accessSite(index);
    this.get(R(amount));
    this.op(OP.i32wrap, OP.call, F_SBRK);
    this.faultCheck(site);
    this.set(R(dst));
  }

  /** L_A = u32(register + sign-extended imm). */
  address(base: number, imm: number): void {
    this.get(R(base));
    this.op(OP.i32wrap);
    if (imm !== 0) {
      this.i32(imm);
      this.op(OP.i32add);
    }
    this.set(L_A);
  }
  addressImm(imm: number): void {
    this.i32(imm);
    this.set(L_A);
  }

  /** Dynamic jump to the u32 address in L_A (GP 0.7.2 A.5 djump): halt, panic or a jump table entry. */
  djump(pc: number, tableLength: number): void {
    this.get(L_A);
    this.i32(0xffff0000);
    this.op(OP.i32eq);
    this.open(OP.if);
    this.exit(WasmExit.Halt, pc, 0);
    this.close();
    this.get(L_A);
    this.i32(1);
    this.op(OP.i32and);
    this.get(L_A);
    this.op(OP.i32eqz);
    this.op(OP.i32or);
    this.get(L_A);
    this.i32(1);
    this.op(OP.i32shrU);
    this.i32(1);
    this.op(OP.i32sub);
    this.tee(L_E);
    this.i32(tableLength);
    this.op(OP.i32geU);
    this.op(OP.i32or);
    this.open(OP.if);
    this.exit(WasmExit.Panic, pc, 0);
    this.close();
    this.get(L_E);
    this.i32(2);
    this.op(OP.i32shl);
    this.mem(OP.i32load, JUMP_TABLE);
    this.tee(L_TARGET);
    this.i32(0);
    this.op(OP.i32ltS);
    this.open(OP.if);
    this.exit(WasmExit.Panic, pc, 0);
    this.close();
    this.c.push(OP.br);
    this.c.uleb(this.depthDispatch());
  }
}

/** Builds the segments of a program: starts at block starts, after each `ecalli`, and at `entries`. */
function buildSegments(d: DecodedCode, entries: readonly number[]): { segments: Segment[]; instructions: PvmInstruction[][]; segmentAt: Map<number, number> } {
  const startSet = new Set<number>();
  for (let pc = 0; pc < d.length; pc++) if (d.blockStart[pc] === 1) startSet.add(pc);
  for (const e of entries) startSet.add(e);
  // the pc after every terminator and ecalli starts a segment, even past the code (a 1-gas trap)
  const decoded: PvmInstruction[] = [];
  for (let pc = 0; pc < d.length; pc++) {
    if (d.starts[pc] !== 1) continue;
    const ins = decodeAt(d, pc);
    decoded.push(ins);
    if (TERMINATOR_OPCODES.has(ins.op) || ins.op === ECALLI) startSet.add(ins.next);
  }
  const starts = [...startSet].sort((a, b) => a - b);
  if (starts.length > PVM_TRANSLATOR_MAX_SEGMENTS) throw new PvmTranslationRefused(`${starts.length} segments, over ${PVM_TRANSLATOR_MAX_SEGMENTS}`);
  const segmentAt = new Map<number, number>();
  starts.forEach((pc, i) => segmentAt.set(pc, i));
  const segments: Segment[] = [];
  const instructions: PvmInstruction[][] = [];
  for (const start of starts) {
    const list: PvmInstruction[] = [];
    let pc = start;
    for (;;) {
      const ins = decodeAt(d, pc);
      list.push(ins);
      if (ins.op === NOT_AN_INSTRUCTION || ins.kind === undefined || TERMINATOR_OPCODES.has(ins.op) || ins.op === ECALLI) break;
      pc = ins.next;
      if (segmentAt.has(pc)) break;
    }
    segments.push({ pc: start, pcs: list.map((i) => i.pc) });
    instructions.push(list);
  }
  return { segments, instructions, segmentAt };
}

/**
 * Translates a program to a Wasm module (see the file comment).
 * @param blob the decoded generic program blob (pvm-program.ts)
 * @param entries pcs the machine may start at besides basic block starts (e.g. 0 and 5 for a service)
 * @throws PvmTranslationRefused when the program uses `sbrk` or is over the size caps
 */
export function translatePvm(blob: PvmCodeBlob, entries: readonly number[] = [0]): PvmTranslation {
  if (blob.code.length > PVM_TRANSLATOR_MAX_CODE_BYTES)
    throw new PvmTranslationRefused(`code is ${blob.code.length} bytes, over ${PVM_TRANSLATOR_MAX_CODE_BYTES}`);
  const d = prepareCode(blob);
  const { segments, instructions, segmentAt } = buildSegments(d, entries);
  const blockSegment = (pc: number): number => (pc < d.length && d.blockStart[pc] === 1 ? segmentAt.get(pc)! : -1);
  const jumpSegments = Int32Array.from(blob.jumpTable, (t) => blockSegment(t));
  const n = segments.length;
  const e = new RunEmitter(n, blockSegment);

  // prologue: registers and gas from STATE; status defaults to BadEntry (br_table's default)
  for (let i = 0; i < 13; i++) {
    e.i32(0);
    e.mem(OP.i64load, STATE_REGS + 8 * i);
    e.set(R(i));
  }
  e.i32(0);
  e.mem(OP.i64load, STATE_GAS);
  e.set(L_GAS);
  e.i32(WasmExit.BadEntry);
  e.set(L_STATUS);
  e.op(OP.block, 0x40); // exit
  e.op(OP.loop, 0x40); // dispatch
  for (let i = 0; i < n; i++) e.op(OP.block, 0x40);
  e.get(L_TARGET);
  e.op(OP.brTable);
  e.c.uleb(n);
  for (let i = 0; i < n; i++) e.c.uleb(i);
  e.c.uleb(n + 1); // default: exit with BadEntry
  for (let s = 0; s < n; s++) {
    e.op(OP.end);
    e.seg = s;
    e.extra = 0;
    emitSegment(e, instructions[s]!, s, segmentAt, blob.jumpTable.length);
  }
  if (e.c.length > PVM_TRANSLATOR_MAX_BODY_BYTES) throw new PvmTranslationRefused(`translation is ${e.c.length} bytes, over ${PVM_TRANSLATOR_MAX_BODY_BYTES}`);
  e.op(OP.end); // loop (never falls out: the last segment ends with a transfer)
  e.op(OP.end); // exit block
  // epilogue: registers, gas, pc and exit argument to STATE
  for (let i = 0; i < 13; i++) {
    e.i32(0);
    e.get(R(i));
    e.mem(OP.i64store, STATE_REGS + 8 * i);
  }
  e.i32(0);
  e.get(L_GAS);
  e.mem(OP.i64store, STATE_GAS);
  e.i32(0);
  e.get(L_XPC);
  e.mem(OP.i32store, STATE_PC);
  e.i32(0);
  e.get(L_XARG);
  e.mem(OP.i32store, STATE_ARG);
  e.get(L_STATUS);
  e.op(OP.end);

  const framesBase = Math.ceil((JUMP_TABLE + 4 * jumpSegments.length) / 4096) * 4096;
  return { wasm: assemble(e.c.data()), segments, segmentAt, sites: e.sites, jumpSegments, framesBase, code: d };
}

function emitSegment(e: RunEmitter, list: PvmInstruction[], s: number, segmentAt: Map<number, number>, tableLength: number): void {
  e.get(L_GAS);
  e.i64(BigInt(list.length));
  e.op(OP.i64sub);
  e.set(L_GAS);
  const last = list[list.length - 1]!;
  const endsInTransfer = last.op === NOT_AN_INSTRUCTION || last.kind === undefined || TERMINATOR_OPCODES.has(last.op) || last.op === ECALLI;
  const body = endsInTransfer ? list.slice(0, -1) : list;
  body.forEach((ins, k) => emitPlain(e, ins, k));
  // end of segment: out of gas if its cost was not covered
  e.get(L_GAS);
  e.i64(0n);
  e.op(OP.i64ltS);
  e.open(OP.if);
  e.exit(WasmExit.OutOfGas, 0, s);
  e.close();
  if (!endsInTransfer) {
    const next = segmentAt.get(last.next)!;
    if (next !== s + 1) e.goSegment(next);
    return;
  }
  emitTransfer(e, last, list.length - 1, segmentAt, tableLength, s);
}

/** The last instruction of a segment: terminator, ecalli, invalid instruction or no instruction. */
function emitTransfer(e: RunEmitter, ins: PvmInstruction, index: number, segmentAt: Map<number, number>, tableLength: number, s: number): void {
  const { pc, op, ra, rb } = ins;
  const fallOn = (): void => {
    const next = segmentAt.get(ins.next)!;
    if (next !== s + 1) e.goSegment(next);
  };
  if (op === NOT_AN_INSTRUCTION || ins.kind === undefined || op === 0) return e.exit(WasmExit.Panic, pc, 0);
  if (op === ECALLI) return e.exit(WasmExit.Host, pc, ins.imm1);
  if (op === 1) return fallOn();
  if (op === 40) return e.jump(pc, ins.target);
  if (op === 50) {
    e.address(ra, ins.imm1);
    return e.djump(pc, tableLength);
  }
  if (op === 180) {
    e.address(rb, ins.imm2);
    e.sx(ins.imm1);
    e.set(R(ra));
    return e.djump(pc, tableLength);
  }
  if (op === 80) {
    e.sx(ins.imm1);
    e.set(R(ra));
    return e.jump(pc, ins.target);
  }
  if (op >= 81 && op <= 90) {
    e.get(R(ra));
    e.sx(ins.imm1);
    const cmp = [OP.i64eq, OP.i64ne, OP.i64ltU, OP.i64leU, OP.i64geU, OP.i64gtU, OP.i64ltS, OP.i64leS, OP.i64geS, OP.i64gtS][op - 81]!;
    e.op(cmp);
  } else {
    // 170..175: branch_eq, ne, lt_u, lt_s, ge_u, ge_s (ω_A ? ω_B)
    e.get(R(ra));
    e.get(R(rb));
    e.op([OP.i64eq, OP.i64ne, OP.i64ltU, OP.i64ltS, OP.i64geU, OP.i64geS][op - 170]!);
  }
  e.open(OP.if);
  e.jump(pc, ins.target);
  e.close();
  void index;
  fallOn();
}

const LOADS: Record<number, [number, boolean]> = { 0: [1, false], 1: [1, true], 2: [2, false], 3: [2, true], 4: [4, false], 5: [4, true], 6: [8, false] };

/** Stack helpers shared by the instruction emitters. */
function stackOps(e: RunEmitter) {
  const bin = (a: () => void, b: () => void, o: number, dst: number, ext32 = false): void => {
    a();
    b();
    e.op(o);
    if (ext32) e.op(OP.i64ext32);
    e.set(R(dst));
  };
  const reg = (r: number) => () => e.get(R(r));
  const lo = (r: number) => () => {
    e.get(R(r));
    e.op(OP.i32wrap);
  };
  const sx = (v: number) => () => e.sx(v);
  const c32 = (v: number) => () => e.i32(v);
  const bool = (): void => {
    e.op(OP.i64extendU);
  };
  // i32 result to an i64 register, sign-extended
  const i32bin = (a: () => void, b: () => void, o: number, dst: number): void => {
    a();
    b();
    e.op(o, OP.i64extendS);
    e.set(R(dst));
  };
  return { bin, reg, lo, sx, c32, bool, i32bin };
}

/** A non-terminating instruction at position `k` of its segment (GP 0.7.2 A.5). */
function emitPlain(e: RunEmitter, ins: PvmInstruction, k: number): void {
  const { op } = ins;
  if (op === SBRK) return e.sbrk(k, ins.rd, ins.ra);
  if (op >= 100 && op <= 111) return emitTwoReg(e, ins);
  if (op >= 131 && op <= 161) return emitRegImm(e, ins);
  if (op >= 193 && op <= 206 && (op < 197 || op > 202)) return emitDivRem(e, ins);
  if (op >= 190) return emitThreeReg(e, ins);
  return emitMemory(e, ins, k);
}

/** Loads, stores and immediate loads (GP 0.7.2 A.5.1-A.5.8). */
function emitMemory(e: RunEmitter, ins: PvmInstruction, k: number): void {
  const { op, ra, rb, imm1, imm2 } = ins;
  switch (op) {
    case 20:
      e.i64(BigInt(imm1) | (BigInt(imm2) << 32n));
      return e.set(R(ra));
    case 30:
    case 31:
    case 32:
    case 33:
      e.addressImm(imm1);
      e.sx(imm2);
      e.set(L_T);
      return e.store(k, [1, 2, 4, 8][op - 30]!);
    case 51:
      e.sx(imm1);
      return e.set(R(ra));
    case 52:
    case 53:
    case 54:
    case 55:
    case 56:
    case 57:
    case 58: {
      const [w, s] = LOADS[op - 52]!;
      e.addressImm(imm1);
      return e.load(k, ra, w, s);
    }
    case 59:
    case 60:
    case 61:
    case 62:
      e.addressImm(imm1);
      e.get(R(ra));
      e.set(L_T);
      return e.store(k, [1, 2, 4, 8][op - 59]!);
    case 70:
    case 71:
    case 72:
    case 73:
      e.address(ra, imm1);
      e.sx(imm2);
      e.set(L_T);
      return e.store(k, [1, 2, 4, 8][op - 70]!);
    case 120:
    case 121:
    case 122:
    case 123:
      e.address(rb, imm1);
      e.get(R(ra));
      e.set(L_T);
      return e.store(k, [1, 2, 4, 8][op - 120]!);
    case 124:
    case 125:
    case 126:
    case 127:
    case 128:
    case 129:
    case 130: {
      const [w, s] = LOADS[op - 124]!;
      e.address(rb, imm1);
      return e.load(k, ra, w, s);
    }
    default:
      throw new Error(`translator: opcode ${op} at pc ${ins.pc} has no translation (kind ${ins.kind === undefined ? '-' : ArgKind[ins.kind]})`);
  }
}

/** Two-register instructions (GP 0.7.2 A.5.10). */
function emitTwoReg(e: RunEmitter, ins: PvmInstruction): void {
  const { op, ra, rd } = ins;
  const { lo } = stackOps(e);
  switch (op) {
    case 100:
      e.get(R(ra));
      return e.set(R(rd));
    case 102:
      e.get(R(ra));
      e.op(OP.i64popcnt);
      return e.set(R(rd));
    case 103:
      lo(ra)();
      e.op(OP.i32popcnt, OP.i64extendU);
      return e.set(R(rd));
    case 104:
      e.get(R(ra));
      e.op(OP.i64clz);
      return e.set(R(rd));
    case 105:
      lo(ra)();
      e.op(OP.i32clz, OP.i64extendU);
      return e.set(R(rd));
    case 106:
      e.get(R(ra));
      e.op(OP.i64ctz);
      return e.set(R(rd));
    case 107:
      lo(ra)();
      e.op(OP.i32ctz, OP.i64extendU);
      return e.set(R(rd));
    case 108:
      e.get(R(ra));
      e.op(OP.i64ext8);
      return e.set(R(rd));
    case 109:
      e.get(R(ra));
      e.op(OP.i64ext16);
      return e.set(R(rd));
    case 110:
      e.get(R(ra));
      e.i64(0xffffn);
      e.op(OP.i64and);
      return e.set(R(rd));
    case 111:
      e.get(R(ra));
      e.op(OP.call, F_BSWAP);
      return e.set(R(rd));
    default:
      throw new Error(`translator: opcode ${op} at pc ${ins.pc} has no translation (kind ${ins.kind === undefined ? '-' : ArgKind[ins.kind]})`);
  }
}

/** Two registers and an immediate (GP 0.7.2 A.5.11). */
function emitRegImm(e: RunEmitter, ins: PvmInstruction): void {
  const { op, ra, rb, imm1 } = ins;
  const { bin, reg, lo, sx, c32, bool, i32bin } = stackOps(e);
  switch (op) {
    case 131:
      return bin(reg(rb), sx(imm1), OP.i64add, ra, true);
    case 132:
      return bin(reg(rb), sx(imm1), OP.i64and, ra);
    case 133:
      return bin(reg(rb), sx(imm1), OP.i64xor, ra);
    case 134:
      return bin(reg(rb), sx(imm1), OP.i64or, ra);
    case 135:
      return bin(reg(rb), sx(imm1), OP.i64mul, ra, true);
    case 136:
      e.get(R(rb));
      e.sx(imm1);
      e.op(OP.i64ltU);
      bool();
      return e.set(R(ra));
    case 137:
      e.get(R(rb));
      e.sx(imm1);
      e.op(OP.i64ltS);
      bool();
      return e.set(R(ra));
    case 138:
      return i32bin(lo(rb), c32(imm1 & 31), OP.i32shl, ra);
    case 139:
      return i32bin(lo(rb), c32(imm1 & 31), OP.i32shrU, ra);
    case 140:
      return i32bin(lo(rb), c32(imm1 & 31), OP.i32shrS, ra);
    case 141:
      return bin(sx(imm1), reg(rb), OP.i64sub, ra, true);
    case 142:
      e.get(R(rb));
      e.sx(imm1);
      e.op(OP.i64gtU);
      bool();
      return e.set(R(ra));
    case 143:
      e.get(R(rb));
      e.sx(imm1);
      e.op(OP.i64gtS);
      bool();
      return e.set(R(ra));
    case 144:
      return i32bin(c32(imm1), lo(rb), OP.i32shl, ra);
    case 145:
      return i32bin(c32(imm1), lo(rb), OP.i32shrU, ra);
    case 146:
      return i32bin(c32(imm1), lo(rb), OP.i32shrS, ra);
    case 147:
    case 148:
      // cmov_iz_imm / cmov_nz_imm: ω_A = imm when ω_B is (not) zero
      e.sx(imm1);
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.i64eqz);
      if (op === 148) e.op(OP.i32eqz);
      e.op(OP.select);
      return e.set(R(ra));
    case 149:
      return bin(reg(rb), sx(imm1), OP.i64add, ra);
    case 150:
      return bin(reg(rb), sx(imm1), OP.i64mul, ra);
    case 151:
      return bin(reg(rb), sx(imm1 & 63), OP.i64shl, ra);
    case 152:
      return bin(reg(rb), sx(imm1 & 63), OP.i64shrU, ra);
    case 153:
      return bin(reg(rb), sx(imm1 & 63), OP.i64shrS, ra);
    case 154:
      return bin(sx(imm1), reg(rb), OP.i64sub, ra);
    case 155:
      return bin(sx(imm1), reg(rb), OP.i64shl, ra);
    case 156:
      return bin(sx(imm1), reg(rb), OP.i64shrU, ra);
    case 157:
      return bin(sx(imm1), reg(rb), OP.i64shrS, ra);
    case 158:
      return bin(reg(rb), sx(imm1), OP.i64rotr, ra);
    case 159:
      return bin(sx(imm1), reg(rb), OP.i64rotr, ra);
    case 160:
      return i32bin(lo(rb), c32(imm1), OP.i32rotr, ra);
    case 161:
      return i32bin(c32(imm1), lo(rb), OP.i32rotr, ra);
    default:
      throw new Error(`translator: opcode ${op} at pc ${ins.pc} has no translation (kind ${ins.kind === undefined ? '-' : ArgKind[ins.kind]})`);
  }
}

/** Three-register instructions other than division (GP 0.7.2 A.5.13). */
function emitThreeReg(e: RunEmitter, ins: PvmInstruction): void {
  const { op, ra, rb, rd } = ins;
  const { bin, reg, lo, bool, i32bin } = stackOps(e);
  switch (op) {
    case 190:
      return bin(reg(ra), reg(rb), OP.i64add, rd, true);
    case 191:
      return bin(reg(ra), reg(rb), OP.i64sub, rd, true);
    case 192:
      return bin(reg(ra), reg(rb), OP.i64mul, rd, true);
    case 197:
      return i32bin(lo(ra), lo(rb), OP.i32shl, rd);
    case 198:
      return i32bin(lo(ra), lo(rb), OP.i32shrU, rd);
    case 199:
      return i32bin(lo(ra), lo(rb), OP.i32shrS, rd);
    case 200:
      return bin(reg(ra), reg(rb), OP.i64add, rd);
    case 201:
      return bin(reg(ra), reg(rb), OP.i64sub, rd);
    case 202:
      return bin(reg(ra), reg(rb), OP.i64mul, rd);
    case 207:
      return bin(reg(ra), reg(rb), OP.i64shl, rd);
    case 208:
      return bin(reg(ra), reg(rb), OP.i64shrU, rd);
    case 209:
      return bin(reg(ra), reg(rb), OP.i64shrS, rd);
    case 210:
      return bin(reg(ra), reg(rb), OP.i64and, rd);
    case 211:
      return bin(reg(ra), reg(rb), OP.i64xor, rd);
    case 212:
      return bin(reg(ra), reg(rb), OP.i64or, rd);
    case 213:
    case 214:
    case 215:
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.call, op === 213 ? F_MULHS : op === 214 ? F_MULHU : F_MULHSU);
      return e.set(R(rd));
    case 216:
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.i64ltU);
      bool();
      return e.set(R(rd));
    case 217:
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.i64ltS);
      bool();
      return e.set(R(rd));
    case 218:
    case 219:
      // cmov_iz / cmov_nz: ω_D = ω_A when ω_B is (not) zero
      e.get(R(ra));
      e.get(R(rd));
      e.get(R(rb));
      e.op(OP.i64eqz);
      if (op === 219) e.op(OP.i32eqz);
      e.op(OP.select);
      return e.set(R(rd));
    case 220:
      return bin(reg(ra), reg(rb), OP.i64rotl, rd);
    case 221:
      return i32bin(lo(ra), lo(rb), OP.i32rotl, rd);
    case 222:
      return bin(reg(ra), reg(rb), OP.i64rotr, rd);
    case 223:
      return i32bin(lo(ra), lo(rb), OP.i32rotr, rd);
    case 224:
    case 225:
      e.get(R(ra));
      e.get(R(rb));
      e.i64(-1n);
      e.op(OP.i64xor, op === 224 ? OP.i64and : OP.i64or);
      return e.set(R(rd));
    case 226:
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.i64xor);
      e.i64(-1n);
      e.op(OP.i64xor);
      return e.set(R(rd));
    case 227:
    case 228:
    case 229:
    case 230:
      e.get(R(ra));
      e.get(R(rb));
      e.get(R(ra));
      e.get(R(rb));
      e.op([OP.i64gtS, OP.i64gtU, OP.i64ltS, OP.i64ltU][op - 227]!);
      e.op(OP.select);
      return e.set(R(rd));
    default:
      throw new Error(`translator: opcode ${op} at pc ${ins.pc} has no translation (kind ${ins.kind === undefined ? '-' : ArgKind[ins.kind]})`);
  }
}

/** Division and remainder, with the GP's results for a zero divisor and overflow (GP 0.7.2 A.5.13). */
function emitDivRem(e: RunEmitter, ins: PvmInstruction): void {
  const { op, ra, rb, rd } = ins;
  const { lo } = stackOps(e);
  switch (op) {
    case 193:
      // div_u_32: 2^64 - 1 when dividing by zero
      lo(rb)();
      e.op(OP.i32eqz);
      e.open(OP.if, I64);
      e.i64(-1n);
      e.op(OP.else);
      lo(ra)();
      lo(rb)();
      e.op(OP.i32divU, OP.i64extendS);
      e.close();
      return e.set(R(rd));
    case 194:
      // div_s_32: by zero 2^64 - 1; -2^31 / -1 = -2^31 (so: negate and sign-extend)
      lo(rb)();
      e.op(OP.i32eqz);
      e.open(OP.if, I64);
      e.i64(-1n);
      e.op(OP.else);
      lo(rb)();
      e.i32(-1);
      e.op(OP.i32eq);
      e.open(OP.if, I64);
      e.i64(0n);
      e.get(R(ra));
      e.op(OP.i64ext32, OP.i64sub, OP.i64ext32);
      e.op(OP.else);
      e.get(R(ra));
      e.op(OP.i64ext32);
      e.get(R(rb));
      e.op(OP.i64ext32, OP.i64divS);
      e.close();
      e.close();
      return e.set(R(rd));
    case 195:
      lo(rb)();
      e.op(OP.i32eqz);
      e.open(OP.if, I64);
      e.get(R(ra));
      e.op(OP.i64ext32);
      e.op(OP.else);
      lo(ra)();
      lo(rb)();
      e.op(OP.i32remU, OP.i64extendS);
      e.close();
      return e.set(R(rd));
    case 196:
      // rem_s_32: by zero the dividend; Wasm's rem_s gives 0 for -2^31 % -1 as the GP does
      lo(rb)();
      e.op(OP.i32eqz);
      e.open(OP.if, I64);
      e.get(R(ra));
      e.op(OP.i64ext32);
      e.op(OP.else);
      lo(ra)();
      lo(rb)();
      e.op(OP.i32remS, OP.i64extendS);
      e.close();
      return e.set(R(rd));
    case 203:
      e.get(R(rb));
      e.op(OP.i64eqz);
      e.open(OP.if, I64);
      e.i64(-1n);
      e.op(OP.else);
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.i64divU);
      e.close();
      return e.set(R(rd));
    case 204:
      e.get(R(rb));
      e.op(OP.i64eqz);
      e.open(OP.if, I64);
      e.i64(-1n);
      e.op(OP.else);
      e.get(R(rb));
      e.i64(-1n);
      e.op(OP.i64eq);
      e.open(OP.if, I64);
      e.i64(0n);
      e.get(R(ra));
      e.op(OP.i64sub);
      e.op(OP.else);
      e.get(R(ra));
      e.get(R(rb));
      e.op(OP.i64divS);
      e.close();
      e.close();
      return e.set(R(rd));
    case 205:
    case 206:
      e.get(R(rb));
      e.op(OP.i64eqz);
      e.open(OP.if, I64);
      e.get(R(ra));
      e.op(OP.else);
      e.get(R(ra));
      e.get(R(rb));
      e.op(op === 205 ? OP.i64remU : OP.i64remS);
      e.close();
      return e.set(R(rd));
    default:
      throw new Error(`translator: opcode ${op} at pc ${ins.pc} has no translation (kind ${ins.kind === undefined ? '-' : ArgKind[ins.kind]})`);
  }
}

let helperBodies: Bytes[] | undefined;

/** Helper functions: mul_upper (u×u, s×s, s×u) and byte reversal, on i64 (GP 0.7.2 A.5.13, A.5.10); built once. */
function helpers(): Bytes[] {
  helperBodies ??= buildHelpers();
  return helperBodies;
}

function buildHelpers(): Bytes[] {
  const mulhu = new Bytes();
  // locals: 0 a, 1 b, 2 ll, 3 lh, 4 hl, 5 hh (i64)
  const g = (l: number): void => mulhu.push(OP.get, l);
  const s = (l: number): void => mulhu.push(OP.set, l);
  const M = (): void => {
    mulhu.push(OP.i64const);
    mulhu.sleb(0xffffffffn);
  };
  const k32 = (): void => mulhu.push(OP.i64const, 32);
  mulhu.push(1, 4, I64);
  // ll = alo*blo; lh = alo*bhi; hl = ahi*blo; hh = ahi*bhi
  g(0);
  M();
  mulhu.push(OP.i64and);
  g(1);
  M();
  mulhu.push(OP.i64and, OP.i64mul);
  s(2);
  g(0);
  M();
  mulhu.push(OP.i64and);
  g(1);
  k32();
  mulhu.push(OP.i64shrU, OP.i64mul);
  s(3);
  g(0);
  k32();
  mulhu.push(OP.i64shrU);
  g(1);
  M();
  mulhu.push(OP.i64and, OP.i64mul);
  s(4);
  g(0);
  k32();
  mulhu.push(OP.i64shrU);
  g(1);
  k32();
  mulhu.push(OP.i64shrU, OP.i64mul);
  s(5);
  // mid = (ll >> 32) + (lh & M) + (hl & M); result = hh + (lh >> 32) + (hl >> 32) + (mid >> 32)
  g(5);
  g(3);
  k32();
  mulhu.push(OP.i64shrU, OP.i64add);
  g(4);
  k32();
  mulhu.push(OP.i64shrU, OP.i64add);
  g(2);
  k32();
  mulhu.push(OP.i64shrU);
  g(3);
  M();
  mulhu.push(OP.i64and, OP.i64add);
  g(4);
  M();
  mulhu.push(OP.i64and, OP.i64add);
  k32();
  mulhu.push(OP.i64shrU, OP.i64add, OP.end);

  // signed: mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)
  const mulhs = new Bytes();
  mulhs.push(0);
  mulhs.push(OP.get, 0, OP.get, 1, OP.call, F_MULHU);
  mulhs.push(OP.get, 1, OP.i64const, 0, OP.get, 0, OP.i64const, 0, OP.i64ltS, OP.select, OP.i64sub);
  mulhs.push(OP.get, 0, OP.i64const, 0, OP.get, 1, OP.i64const, 0, OP.i64ltS, OP.select, OP.i64sub, OP.end);
  // signed × unsigned: mulhu(a, b) - (a < 0 ? b : 0)
  const mulhsu = new Bytes();
  mulhsu.push(0);
  mulhsu.push(OP.get, 0, OP.get, 1, OP.call, F_MULHU);
  mulhsu.push(OP.get, 1, OP.i64const, 0, OP.get, 0, OP.i64const, 0, OP.i64ltS, OP.select, OP.i64sub, OP.end);

  const bswap = new Bytes();
  bswap.push(0);
  const step = (mask: bigint, shift: number): void => {
    bswap.push(OP.get, 0, OP.i64const);
    bswap.sleb(BigInt.asIntN(64, mask));
    bswap.push(OP.i64and, OP.i64const, shift, OP.i64shl, OP.get, 0, OP.i64const, shift, OP.i64shrU, OP.i64const);
    bswap.sleb(BigInt.asIntN(64, mask));
    bswap.push(OP.i64and, OP.i64or, OP.set, 0);
  };
  step(0x00ff00ff00ff00ffn, 8);
  step(0x0000ffff0000ffffn, 16);
  bswap.push(OP.get, 0, OP.i64const, 32, OP.i64rotl, OP.end);
  return [mulhu, mulhs, mulhsu, bswap];
}

function assemble(runBody: Uint8Array): Uint8Array {
  const out = new Bytes();
  out.push(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  const types = new Bytes();
  types.vec([
    [0x60, 2, I32, I32, 1, I64], // 0: load(addr, width) -> value
    [0x60, 3, I32, I32, I64, 1, I32], // 1: store(addr, width, value) -> fault
    [0x60, 1, I32, 1, I32], // 2: run(segment) -> status
    [0x60, 2, I64, I64, 1, I64], // 3: (i64, i64) -> i64
    [0x60, 1, I64, 1, I64], // 4: (i64) -> i64
    [0x60, 1, I32, 1, I64], // 5: sbrk(amount) -> previous heap end
  ]);
  section(out, 1, types);
  const imports = new Bytes();
  const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];
  imports.vec([
    [...name('env'), ...name('load'), 0x00, 0],
    [...name('env'), ...name('store'), 0x00, 1],
    [...name('env'), ...name('sbrk'), 0x00, 5],
    [...name('env'), ...name('memory'), 0x02, 0x00, 1],
  ]);
  section(out, 2, imports);
  const funcs = new Bytes();
  funcs.vec([[2], [3], [3], [3], [4]]);
  section(out, 3, funcs);
  const exports = new Bytes();
  exports.vec([[...name('run'), 0x00, F_RUN]]);
  section(out, 7, exports);
  const code = new Bytes();
  const bodies: Bytes[] = [];
  const run = new Bytes();
  // locals: 16 i64 (13 registers, gas, 2 scratch), 5 i32
  run.push(2, 16, I64, 5, I32);
  run.append(runBody);
  bodies.push(run, ...helpers());
  code.uleb(bodies.length);
  for (const b of bodies) {
    code.uleb(b.length);
    code.append(b.data());
  }
  section(out, 10, code);
  return out.data().slice();
}
