/**
 * Binding to the PVM interpreter of `@fluffylabs/anan-as` (AssemblyScript compiled to WebAssembly,
 * MPL-2.0), used through its "debugger" API: one interpreter at a time per thread, which is what an
 * executor's guest thread runs (docs/sandbox.md, "PVM engine").
 *
 * Why our own binding: the package ships ES modules only (its `exports` have no `require`
 * condition, and `release.js` uses top-level await), while this repository compiles to CommonJS
 * and Jest runs CommonJS. The `.wasm` file is exported without conditions, so it is read here and
 * instantiated with the AssemblyScript runtime ABI (`__new`, `__pin`, `__unpin`; array headers of
 * 16 bytes, typed-array headers of 12). The class ids below are those of the pinned version
 * (package.json pins it exactly): WARNING: re-check them against the package's `release.js` on
 * every upgrade; `test/sandbox/pvm-vectors.spec.ts` fails if they are wrong.
 *
 * Everything here is synchronous and loaded at import time: an executor's guest thread loads
 * nothing from disk after it said `ready`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Version of `@fluffylabs/anan-as` this binding was written against (part of the PVM engine identity). */
export const ANAN_AS_VERSION = '1.2.0';

/** AssemblyScript runtime class id of `ArrayBuffer`. */
const ID_ARRAY_BUFFER = 1;
/** Class id of `Array<u8>` in the pinned build (`__lowerArray(__setU8, 6, ...)` in release.js). */
const ID_ARRAY_U8 = 6;

/** Status codes of the interpreter (anan-as `Status`, GP 0.7.2 appendix A exit reasons). */
export enum AnanStatus {
  OK = 255,
  HALT = 0,
  PANIC = 1,
  FAULT = 2,
  HOST = 3,
  OOG = 4,
}

/** Input kind for `getGasCosts`: a generic program blob (GP A.2 `deblob`) or a standard program. */
export enum AnanInputKind {
  Generic = 0,
  SPI = 1,
}

interface AnanExports {
  memory: WebAssembly.Memory;
  __new(size: number, id: number): number;
  __pin(ptr: number): number;
  __unpin(ptr: number): void;
  __collect(): void;
  __setArgumentsLength(n: number): void;
  resetJAM(program: number, pc: number, gas: bigint, args: number, hasMetadata: number): void;
  resetGenericWithMemory(program: number, regs: number, pageMap: number, chunks: number, gas: bigint, hasMetadata: number): void;
  nSteps(steps: number): number;
  getProgramCounter(): number;
  setNextProgramCounter(pc: number): void;
  getStatus(): number;
  getExitArg(): number;
  getGasLeft(): bigint;
  setGasLeft(gas: bigint): void;
  getRegisters(): number;
  setRegisters(regs: number): void;
  getMemory(address: number, length: number): number;
  setMemory(address: number, data: number): number;
  getPagePointer(page: number): number;
  getGasCosts(input: number, kind: number, withMetadata: number): number;
}

/** One basic block of a program and its gas cost (gas), as the interpreter charges it. */
export interface BlockGasCost {
  pc: number;
  gas: bigint;
}

/** PVM page size (bytes, GP Z_P): the unit of page access and of the interpreter's page storage. */
const PAGE_BYTES = 4096;
/** Writes longer than this (bytes) take the page-pointer path of `writeMemory`. */
const FAST_WRITE_MIN = 64;

let compiled: WebAssembly.Module | undefined;

/**
 * Reads and compiles the interpreter's `.wasm` once per thread (the first call; executors make it
 * before `ready`), then checks this binding against it: a generic program `r7 = 42; trap` must
 * panic at pc 3 with ω7 = 42 and ω12 as given, having used 2 gas. Wrong class ids or layouts (a
 * different package version) fail here instead of corrupting runs.
 * @throws Error when the self-check fails
 */
export function compileAnanAs(): WebAssembly.Module {
  if (compiled !== undefined) return compiled;
  const module = new WebAssembly.Module(readFileSync(createRequire(__filename).resolve('@fluffylabs/anan-as/release.wasm')));
  compiled = module;
  const m = new AnanAs();
  m.resetGeneric(Uint8Array.from([0, 0, 4, 0x33, 0x07, 42, 0x00, 0b1001]), [...Array<bigint>(12).fill(0n), 7n], [], [], 10n);
  while (m.run(10));
  const regs = m.registers();
  if (m.status() !== AnanStatus.PANIC || m.pc() !== 3 || regs[7] !== 42n || regs[12] !== 7n || m.gas() !== 8n) {
    compiled = undefined;
    throw new Error(
      `@fluffylabs/anan-as binding self-check failed (status ${m.status()}, pc ${m.pc()}, r7 ${regs[7]}, gas ${m.gas()}): is the package ${ANAN_AS_VERSION}?`,
    );
  }
  return module;
}

function load(): AnanExports {
  const module = compileAnanAs();
  let memory: WebAssembly.Memory | undefined;
  const text = (ptr: number): string => {
    if (memory === undefined || ptr === 0) return '';
    // AssemblyScript strings are UTF-16; the byte length is stored 4 bytes before the data
    const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0]! >>> 1;
    return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
  };
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort: (msg: number, file: number, line: number, col: number) => {
        throw new Error(`anan-as aborted: ${text(msg)} in ${text(file)}:${line >>> 0}:${col >>> 0}`);
      },
      // the interpreter's diagnostics ("Run out of pages! Allocating.") are not guest output: dropped
      'console.log': () => undefined,
    },
  });
  const exports = instance.exports as unknown as AnanExports;
  memory = exports.memory;
  return exports;
}

/**
 * One interpreter instance (its own WebAssembly memory). Not reentrant: one program at a time
 * (`reset*` replaces the previous one). Instantiating costs no disk read once `compileAnanAs` ran.
 */
export class AnanAs {
  private readonly x: AnanExports = load();

  /** Lowers bytes to an `Array<u8>` and pins it; the caller unpins. */
  private u8Array(bytes: Uint8Array): number {
    const { x } = this;
    const buffer = x.__pin(x.__new(bytes.length, ID_ARRAY_BUFFER)) >>> 0;
    const header = x.__pin(x.__new(16, ID_ARRAY_U8)) >>> 0;
    const view = new DataView(x.memory.buffer);
    view.setUint32(header, buffer, true);
    view.setUint32(header + 4, buffer, true);
    view.setUint32(header + 8, bytes.length, true);
    view.setUint32(header + 12, bytes.length, true);
    new Uint8Array(x.memory.buffer, buffer, bytes.length).set(bytes);
    x.__unpin(buffer);
    return header;
  }

  /** Lifts a `Uint8Array` (12-byte header: buffer, dataStart, byteLength) into a copy, or null. */
  private liftBytes(ptr: number): Uint8Array | null {
    if (ptr === 0) return null;
    const view = new DataView(this.x.memory.buffer);
    const start = view.getUint32(ptr + 4, true);
    const len = view.getUint32(ptr + 8, true);
    return new Uint8Array(this.x.memory.buffer, start, len).slice();
  }

  private withArrays<T>(arrays: Uint8Array[], call: (ptrs: number[]) => T): T {
    const ptrs: number[] = [];
    try {
      for (const a of arrays) ptrs.push(this.u8Array(a));
      return call(ptrs);
    } finally {
      for (const p of ptrs) this.x.__unpin(p);
    }
  }

  /**
   * Loads a standard program (GP 0.7.2 appendix A.7, Y(p, a)) with its registers and memory
   * initialised by the interpreter's `decodeSpi`, to start at `pc` with `gas`.
   * @param program the program; with `hasMetadata`, a JAM service blob (E(↕m) ++ standard program)
   * @param args the argument bytes (read-only, at 2^32 - Z_Z - Z_I)
   * @throws Error (anan-as aborted) when the program does not decode
   */
  resetStandard(program: Uint8Array, pc: number, gas: bigint, args: Uint8Array, hasMetadata: boolean): void {
    this.withArrays([program, args], ([p, a]) => {
      this.x.__setArgumentsLength(5);
      this.x.resetJAM(p!, pc, gas, a!, hasMetadata ? 1 : 0);
    });
  }

  /**
   * Loads a generic program blob (GP A.2 deblob: jump table, code, bitmask) with explicit
   * registers and memory (the PVM test vectors' form). Starts at pc 0 unless `setPc` is called.
   * @param registers 13 registers (u64)
   * @param pages page-aligned ranges, `writable` or read-only; everything else is inaccessible
   * @param chunks initial memory contents (inside `pages`)
   */
  resetGeneric(
    program: Uint8Array,
    registers: readonly bigint[],
    pages: readonly { address: number; length: number; writable: boolean }[],
    chunks: readonly { address: number; data: Uint8Array }[],
    gas: bigint,
  ): void {
    const regs = encodeRegisters(registers);
    const pageMap = new Uint8Array(pages.length * 9);
    const pv = new DataView(pageMap.buffer);
    pages.forEach((p, i) => {
      pv.setUint32(i * 9, p.address, true);
      pv.setUint32(i * 9 + 4, p.length, true);
      pv.setUint8(i * 9 + 8, p.writable ? 1 : 0);
    });
    const chunkBytes = new Uint8Array(chunks.reduce((n, c) => n + 8 + c.data.length, 0));
    const cv = new DataView(chunkBytes.buffer);
    let at = 0;
    for (const c of chunks) {
      cv.setUint32(at, c.address, true);
      cv.setUint32(at + 4, c.data.length, true);
      chunkBytes.set(c.data, at + 8);
      at += 8 + c.data.length;
    }
    // the page map and chunks are Uint8Array parameters: lowered as typed arrays (12-byte header)
    this.withArrays([program, regs], ([p, r]) => {
      const pm = this.typedArray(pageMap);
      const ch = this.typedArray(chunkBytes);
      try {
        this.x.__setArgumentsLength(6);
        this.x.resetGenericWithMemory(p!, r!, pm, ch, gas, 0);
      } finally {
        this.x.__unpin(pm);
        this.x.__unpin(ch);
      }
    });
  }

  /** Lowers bytes to a `Uint8Array` (class id 10 in the pinned build) and pins it. */
  private typedArray(bytes: Uint8Array): number {
    const { x } = this;
    const buffer = x.__pin(x.__new(bytes.length, ID_ARRAY_BUFFER)) >>> 0;
    const header = x.__pin(x.__new(12, 10)) >>> 0;
    const view = new DataView(x.memory.buffer);
    view.setUint32(header, buffer, true);
    view.setUint32(header + 4, buffer, true);
    view.setUint32(header + 8, bytes.length, true);
    new Uint8Array(x.memory.buffer, buffer, bytes.length).set(bytes);
    x.__unpin(buffer);
    return header;
  }

  /** Size of the interpreter's own WebAssembly memory (bytes): it holds every guest page touched, and never shrinks. */
  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** Runs at most `steps` instructions; @returns true while the machine can continue (status OK). */
  run(steps: number): boolean {
    return this.x.nSteps(steps) !== 0;
  }

  status(): AnanStatus {
    return this.x.getStatus() as AnanStatus;
  }

  /** Host-call index after HOST, page address after FAULT (GP 0.7.2 A.1). */
  exitArg(): number {
    return this.x.getExitArg() >>> 0;
  }

  pc(): number {
    return this.x.getProgramCounter() >>> 0;
  }

  setNextPc(pc: number): void {
    this.x.setNextProgramCounter(pc);
  }

  /** Gas left (gas); negative values never occur: the interpreter stops with OOG first. */
  gas(): bigint {
    return this.x.getGasLeft();
  }

  setGas(gas: bigint): void {
    this.x.setGasLeft(gas);
  }

  /** The 13 registers as u64. */
  registers(): bigint[] {
    const flat = this.liftBytes(this.x.getRegisters() >>> 0) ?? new Uint8Array(13 * 8);
    const view = new DataView(flat.buffer, flat.byteOffset, flat.byteLength);
    return Array.from({ length: 13 }, (_, i) => view.getBigUint64(i * 8, true));
  }

  setRegisters(registers: readonly bigint[]): void {
    this.withArrays([encodeRegisters(registers)], ([r]) => this.x.setRegisters(r!));
  }

  /** Reads `length` bytes at `address`, or null when any of them is not readable. */
  readMemory(address: number, length: number): Uint8Array | null {
    return this.liftBytes(this.x.getMemory(address >>> 0, length >>> 0) >>> 0);
  }

  /**
   * Writes `data` at `address`; @returns false when a byte is not writable (bytes before it may
   * have been written: callers check writability first with `writable`, or end the run).
   * Pieces over FAST_WRITE_MIN bytes go straight into the page's storage in the interpreter's
   * memory (`getPagePointer`) after one checked 1-byte write of the byte already there proves the
   * page writable: the interpreter's own `setMemory` costs about 120-290 ns per byte, this about 1.
   */
  writeMemory(address: number, data: Uint8Array): boolean {
    if (data.length <= FAST_WRITE_MIN) return this.checkedWrite(address, data);
    const { x } = this;
    for (let at = 0; at < data.length;) {
      const addr = (address + at) >>> 0;
      const offset = addr % PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - offset, data.length - at);
      const piece = data.subarray(at, at + n);
      const page = x.getPagePointer(Math.floor(addr / PAGE_BYTES)) >>> 0;
      if (page === 0) {
        // not backed yet (or not mapped): the interpreter's own path allocates or refuses
        if (!this.checkedWrite(addr, piece)) return false;
      } else {
        if (!this.checkedWrite(addr, Uint8Array.of(new Uint8Array(x.memory.buffer, page + offset, 1)[0]!))) return false;
        new Uint8Array(x.memory.buffer, page + offset, n).set(piece);
      }
      at += n;
    }
    return true;
  }

  private checkedWrite(address: number, data: Uint8Array): boolean {
    const ptr = this.typedArray(data);
    try {
      return this.x.setMemory(address >>> 0, ptr) !== 0;
    } finally {
      this.x.__unpin(ptr);
    }
  }

  /**
   * Basic blocks of a program with their gas cost, as this interpreter charges them.
   * @param program a generic blob, or with `kind` SPI a standard program (with `hasMetadata`, a service blob)
   */
  blockGasCosts(program: Uint8Array, kind: AnanInputKind, hasMetadata: boolean): BlockGasCost[] {
    return this.withArrays([program], ([p]) => {
      const ptr = this.x.getGasCosts(p!, kind, hasMetadata ? 0 : 1) >>> 0;
      const view = new DataView(this.x.memory.buffer);
      const dataStart = view.getUint32(ptr + 4, true);
      const length = view.getUint32(ptr + 12, true);
      const out: BlockGasCost[] = [];
      for (let i = 0; i < length; i++) {
        const rec = view.getUint32(dataStart + i * 4, true);
        out.push({ pc: view.getUint32(rec, true), gas: view.getBigUint64(rec + 8, true) });
      }
      return out;
    });
  }
}

function encodeRegisters(registers: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(13 * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 13; i++) view.setBigUint64(i * 8, BigInt.asUintN(64, registers[i] ?? 0n), true);
  return out;
}
