/**
 * Instruction decoding for the PVM-to-Wasm translator (pvm-wasm.translator.ts): a generic program
 * blob's code cut into instructions with their arguments (GP 0.7.2 appendix A.5), and into
 * segments, the units the translator charges gas for.
 *
 * Decoding follows the interpreter the product is checked against (`@fluffylabs/anan-as` 1.2.0)
 * where the GP leaves room: the next instruction is at pc + 1 + skip, skip being the distance to
 * the next set bit of the bitmask capped at 25 (bytes past the code count as not set); a pc that is
 * not an instruction start runs as a 1-gas `trap`; immediates are at most 4 bytes, sign-extended
 * from their last byte; bytes past the code read as zero; register numbers over 12 mean 12.
 * Static jump targets must be basic block starts: offset 0 and the instruction after each
 * terminator (GP 0.7.2 A.5 T; an unknown opcode is not a terminator for this rule).
 */
import type { PvmCodeBlob } from './pvm-program';

/** Argument layouts of GP 0.7.2 A.5 (names as anan-as's `Arguments`). */
export enum ArgKind {
  Zero,
  OneImm,
  TwoImm,
  OneOff,
  OneRegOneImm,
  OneRegOneExtImm,
  OneRegTwoImm,
  OneRegOneImmOneOff,
  TwoReg,
  TwoRegOneImm,
  TwoRegOneOff,
  TwoRegTwoImm,
  ThreeReg,
}

/** Opcodes of GP 0.7.2 A.5 with their argument layout; anything else is an invalid instruction (panic). */
const KINDS = new Map<number, ArgKind>();
function kinds(kind: ArgKind, ...ops: number[]): void {
  for (const op of ops) KINDS.set(op, kind);
}
kinds(ArgKind.Zero, 0, 1);
kinds(ArgKind.OneImm, 10);
kinds(ArgKind.OneRegOneExtImm, 20);
kinds(ArgKind.TwoImm, 30, 31, 32, 33);
kinds(ArgKind.OneOff, 40);
kinds(ArgKind.OneRegOneImm, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62);
kinds(ArgKind.OneRegTwoImm, 70, 71, 72, 73);
kinds(ArgKind.OneRegOneImmOneOff, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90);
kinds(ArgKind.TwoReg, ...range(100, 111));
kinds(ArgKind.TwoRegOneImm, ...range(120, 161));
kinds(ArgKind.TwoRegOneOff, ...range(170, 175));
kinds(ArgKind.TwoRegTwoImm, 180);
kinds(ArgKind.ThreeReg, ...range(190, 230));

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Terminators (GP 0.7.2 A.5 T): trap, fallthrough, jumps, load_imm_jump(_ind) and branches. */
export const TERMINATOR_OPCODES: ReadonlySet<number> = new Set([0, 1, 40, 50, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 170, 171, 172, 173, 174, 175, 180]);

/** Opcode of `ecalli` (GP 0.7.2 A.5.2): a host call, after which the translator starts a new segment. */
export const ECALLI = 10;
/** Opcode of `sbrk` (anan-as keeps it; not translated: programs using it stay on the interpreter). */
export const SBRK = 101;
/** Pseudo-opcode of the translator: a pc that holds no instruction, run as a 1-gas trap. */
export const NOT_AN_INSTRUCTION = -1;

/** One decoded instruction; registers already clamped to 0..12, immediates as u32 bit patterns. */
export interface PvmInstruction {
  pc: number;
  /** Opcode, or NOT_AN_INSTRUCTION; an unknown opcode keeps its value and `kind` undefined. */
  op: number;
  kind: ArgKind | undefined;
  /** pc of the next instruction (pc + 1 + skip). */
  next: number;
  /** GP rA / rB / rD (ThreeReg), or the layout's registers in order (see `decodeAt`). */
  ra: number;
  rb: number;
  rd: number;
  /** First and second immediate (u32 bit patterns; sign-extend with `| 0`). */
  imm1: number;
  imm2: number;
  /** Static jump target (pc + offset, u32), for jumps and branches. */
  target: number;
}

/** A code blob prepared for translation: code padded with zeros, skip distances, block starts. */
export interface DecodedCode {
  code: Uint8Array;
  length: number;
  starts: Uint8Array;
  /** `skip(i) + 1` distance as the interpreter reads it: bytes to the next instruction start, capped at 25. */
  toNext: Uint32Array;
  /** 1 where a basic block starts (valid static and dynamic jump targets). */
  blockStart: Uint8Array;
}

/** Skip cap of the interpreter (anan-as `MAX_SKIP + 1`). */
const MAX_TO_NEXT = 25;

/** Prepares a decoded code blob (GP A.2) for `decodeAt` and the translator. */
export function prepareCode(blob: PvmCodeBlob): DecodedCode {
  const length = blob.code.length;
  const code = new Uint8Array(length + 32);
  code.set(blob.code);
  // toNext[j] = distance from j to the next instruction start at or after j (0 when j is one)
  const toNext = new Uint32Array(length + 1);
  let last = 0;
  for (let j = length - 1; j >= 0; j--) {
    last = blob.starts[j] === 1 ? 0 : last + 1;
    toNext[j] = Math.min(last, MAX_TO_NEXT);
  }
  const d: DecodedCode = { code, length, starts: blob.starts, toNext, blockStart: new Uint8Array(length) };
  d.blockStart[0] = 1;
  for (let n = 0; n < length; n++) {
    if (blob.starts[n] !== 1 || !TERMINATOR_OPCODES.has(code[n]!)) continue;
    const next = nextPc(d, n);
    if (next < length) d.blockStart[next] = 1;
  }
  return d;
}

/** pc + 1 + skip(pc) as the interpreter computes it. */
export function nextPc(d: DecodedCode, pc: number): number {
  return pc + 1 < d.length ? pc + 1 + d.toNext[pc + 1]! : pc + 1;
}

/** Whether `pc` holds an instruction. */
export function isInstruction(d: DecodedCode, pc: number): boolean {
  return pc < d.length && d.starts[pc] === 1;
}

/** Little-endian immediate of `code[start..end)`, at most 4 bytes, sign-extended from its last byte (u32 bit pattern). */
function imm(code: Uint8Array, start: number, end: number): number {
  if (end <= start) return 0;
  const len = Math.min(4, end - start);
  let v = 0;
  for (let i = 0; i < len; i++) v |= code[start + i]! << (i * 8);
  if (len < 4 && code[start + len - 1]! & 0x80) v |= -1 << (len * 8);
  return v >>> 0;
}

const reg = (n: number): number => Math.min(12, n);

/**
 * Decodes the instruction at `pc` (GP 0.7.2 A.5). Register fields by layout:
 * OneRegOneImm, OneRegOneExtImm, OneRegTwoImm, OneRegOneImmOneOff: `ra` = the register (low nibble);
 * TwoReg: `rd` = low nibble (destination), `ra` = high nibble (source);
 * TwoRegOneImm: `ra` = low nibble, `rb` = high nibble; TwoRegOneOff: `ra` = low, `rb` = high;
 * TwoRegTwoImm: `ra` = low nibble (loaded), `rb` = high nibble (address base);
 * ThreeReg: `ra` = low nibble, `rb` = high nibble of the first byte, `rd` = low nibble of the second.
 */
export function decodeAt(d: DecodedCode, pc: number): PvmInstruction {
  const ins: PvmInstruction = { pc, op: NOT_AN_INSTRUCTION, kind: undefined, next: pc + 1, ra: 0, rb: 0, rd: 0, imm1: 0, imm2: 0, target: 0 };
  if (!isInstruction(d, pc)) return ins;
  const { code } = d;
  const op = code[pc]!;
  ins.op = op;
  ins.next = nextPc(d, pc);
  const kind = KINDS.get(op);
  ins.kind = kind;
  const o = pc + 1;
  const lim = ins.next;
  const b0 = code[o]!;
  const lo = b0 & 15;
  const hi = b0 >> 4;
  switch (kind) {
    case undefined:
    case ArgKind.Zero:
      break;
    case ArgKind.OneImm:
      ins.imm1 = imm(code, o, lim);
      break;
    case ArgKind.TwoImm: {
      const split = Math.min(4, lo) + 1;
      ins.imm1 = imm(code, o + 1, o + split);
      ins.imm2 = imm(code, o + split, lim);
      break;
    }
    case ArgKind.OneOff:
      ins.target = (pc + imm(code, o, lim)) >>> 0;
      break;
    case ArgKind.OneRegOneImm:
      ins.ra = reg(lo);
      ins.imm1 = imm(code, o + 1, lim);
      break;
    case ArgKind.OneRegOneExtImm:
      ins.ra = reg(lo);
      ins.imm1 = (code[o + 1]! | (code[o + 2]! << 8) | (code[o + 3]! << 16) | (code[o + 4]! << 24)) >>> 0;
      ins.imm2 = (code[o + 5]! | (code[o + 6]! << 8) | (code[o + 7]! << 16) | (code[o + 8]! << 24)) >>> 0;
      break;
    case ArgKind.OneRegTwoImm: {
      ins.ra = reg(lo);
      const split = Math.min(4, hi) + 1;
      ins.imm1 = imm(code, o + 1, o + split);
      ins.imm2 = imm(code, o + split, lim);
      break;
    }
    case ArgKind.OneRegOneImmOneOff: {
      ins.ra = reg(lo);
      const split = Math.min(4, hi) + 1;
      ins.imm1 = imm(code, o + 1, o + split);
      ins.target = (pc + imm(code, o + split, lim)) >>> 0;
      break;
    }
    case ArgKind.TwoReg:
      ins.rd = reg(lo);
      ins.ra = reg(hi);
      break;
    case ArgKind.TwoRegOneImm:
      ins.ra = reg(lo);
      ins.rb = reg(hi);
      ins.imm1 = imm(code, o + 1, lim);
      break;
    case ArgKind.TwoRegOneOff:
      ins.ra = reg(lo);
      ins.rb = reg(hi);
      ins.target = (pc + imm(code, o + 1, lim)) >>> 0;
      break;
    case ArgKind.TwoRegTwoImm: {
      ins.ra = reg(lo);
      ins.rb = reg(hi);
      const b1 = code[o + 1]!;
      const split = Math.min(4, b1 & 15) + 1;
      ins.imm1 = imm(code, o + 2, o + 1 + split);
      ins.imm2 = imm(code, o + 1 + split, lim);
      break;
    }
    case ArgKind.ThreeReg:
      ins.ra = reg(lo);
      ins.rb = reg(hi);
      ins.rd = reg(code[o + 1]! & 15);
      break;
  }
  return ins;
}
