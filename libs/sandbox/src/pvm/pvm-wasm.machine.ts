/**
 * Runs a program translated by pvm-wasm.translator.ts: owns the Wasm memory (page tables, page
 * frames), answers the translated code's slow memory path, handles host calls and turns the
 * translated code's exits into the same final state the interpreter machine (pvm.machine.ts,
 * `runPvm`) reports: status, pc, gas (with the page-fault `restOfBlock` rule) and registers.
 *
 * Exactness where gas runs out inside a segment: the translated code takes a segment's gas on
 * entry, the interpreter one instruction at a time. When the gas at a segment's entry (G) is less
 * than its cost, the interpreter stops at the segment's G-th instruction with `out-of-gas`, unless
 * an earlier memory access faulted; the translated code runs on to the segment's end or to the
 * first fault and the host decides which of the two the interpreter would have reported. Registers
 * and memory after an `out-of-gas` exit may then differ from the interpreter's (later instructions
 * of the segment ran): no caller reads them (refine and accumulate discard both on out of gas).
 */
import { PVM_PAGE_SIZE, type PvmCodeBlob } from './pvm-program';
import {
  JUMP_TABLE,
  READ_TABLE,
  STATE_FAULT,
  STATE_GAS,
  STATE_PC,
  STATE_REGS,
  translatePvm,
  WasmExit,
  WRITE_TABLE,
  type PvmTranslation,
} from './pvm-wasm.translator';
import { nextPc } from './pvm-wasm.decoder';

/** Reads guest memory after a run (the `inspect` callbacks of refine, accumulate and the vectors). */
export interface PvmMemoryView {
  /** `length` bytes at `address`, or null when any of them is not readable. */
  readMemory(address: number, length: number): Uint8Array | null;
  /** Size of the engine's WebAssembly memory (bytes), guest pages included. */
  memoryBytes(): number;
}

/** First address that faults as a page fault rather than a panic (GP 0.7.2 A.1: Z_Z, the reserved zone). */
const RESERVED_BYTES = 1 << 16;
const WASM_PAGE = 65536;

/** A translated program, compiled once (per thread), instantiated per run. */
export interface PvmCompiledProgram {
  translation: PvmTranslation;
  module: WebAssembly.Module;
}

/**
 * Translates and compiles a program.
 * @throws PvmTranslationRefused (see translatePvm); a WebAssembly.CompileError is a translator bug
 */
export function compilePvm(blob: PvmCodeBlob, entries: readonly number[]): PvmCompiledProgram {
  const translation = translatePvm(blob, entries);
  return { translation, module: new WebAssembly.Module(translation.wasm) };
}

/**
 * How a memory access of the slow path, or an `sbrk`, ended (anan-as's rule: no page -> fault;
 * no right -> panic; `sbrk` past the heap's limit -> panic; past the memory cap -> panic with `memoryLimit`).
 */
interface AccessFault {
  panic: boolean;
  address: number;
  memoryLimit?: boolean;
}

/**
 * Heap state for `sbrk` (anan-as `Memory.sbrk`): the heap's end (bytes), the highest address it
 * may reach, and the last page already mapped for it.
 */
export interface HeapState {
  end: number;
  max: number;
  lastPage: number;
}

/** Guest memory of one run: frames in the Wasm memory, found through the page tables. */
export class TranslatedMemory implements PvmMemoryView {
  private next: number;
  private u32: Uint32Array;
  fault: AccessFault | null = null;
  heap: HeapState = { end: 1 << 16, max: 0xffffffff, lastPage: 15 };
  /** Pages given a table entry by `map` (cleared by `clear`). */
  private readonly mapped: number[] = [];

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly framesBase: number,
  ) {
    this.next = framesBase;
    this.u32 = new Uint32Array(memory.buffer);
  }

  /** Bytes of page frames this run mapped. */
  frameBytes(): number {
    return this.next - this.framesBase;
  }

  /** Unmaps every page and zeroes the jump table and frames, so the Wasm memory can serve another run as new. */
  clear(): void {
    const t = this.view();
    for (const p of this.mapped) {
      t[READ_TABLE / 4 + p] = 0;
      t[WRITE_TABLE / 4 + p] = 0;
    }
    // the jump table too: the next program's frames may start inside this one's table
    new Uint8Array(this.memory.buffer, JUMP_TABLE, this.next - JUMP_TABLE).fill(0);
    new Uint8Array(this.memory.buffer, 0, 128).fill(0);
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  private view(): Uint32Array {
    if (this.u32.buffer !== this.memory.buffer) this.u32 = new Uint32Array(this.memory.buffer);
    return this.u32;
  }

  /**
   * Maps `count` pages from page `first`, readable and (if `writable`) writable, backed by zeroed
   * frames (`fresh`: new frames even where a page was mapped, as anan-as's `sbrk` replaces pages).
   * @returns false (nothing mapped) when the Wasm memory would pass `maxBytes`
   */
  map(first: number, count: number, writable: boolean, fresh = false, maxBytes = Infinity): boolean {
    const need = this.next + count * PVM_PAGE_SIZE;
    if (need > maxBytes) return false;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / WASM_PAGE));
    const t = this.view();
    for (let p = first; p < first + count; p++) {
      if (fresh || t[READ_TABLE / 4 + p] === 0) {
        this.mapped.push(p);
        t[READ_TABLE / 4 + p] = this.next;
        this.next += PVM_PAGE_SIZE;
      }
      t[WRITE_TABLE / 4 + p] = writable ? t[READ_TABLE / 4 + p]! : 0;
    }
    return true;
  }

  /**
   * `sbrk(amount)` as anan-as 1.2.0 runs it: 0 answers the heap's end; otherwise the end moves up
   * by `amount` (panic past `heap.max`) and the pages up to the new end are mapped writable.
   * @returns the heap's previous end, or 0 with the fault recorded
   */
  sbrk(amount: number, maxBytes: number): bigint {
    const h = this.heap;
    const previous = h.end;
    if (amount === 0) return BigInt(previous);
    const end = previous + (amount >>> 0);
    if (end > h.max) return this.refuse({ panic: true, address: 0 });
    const lastPage = Math.floor((end - 1) / PVM_PAGE_SIZE);
    if (lastPage > h.lastPage && !this.map(h.lastPage + 1, lastPage - h.lastPage, true, true, maxBytes)) {
      return this.refuse({ panic: true, address: 0, memoryLimit: true });
    }
    h.end = end;
    h.lastPage = Math.max(h.lastPage, lastPage);
    return BigInt(previous);
  }

  private refuse(f: AccessFault): bigint {
    this.fault = f;
    this.view()[STATE_FAULT / 4] = 1;
    return 0n;
  }

  private frame(page: number, write: boolean): number {
    return this.view()[(write ? WRITE_TABLE : READ_TABLE) / 4 + (page & 0xfffff)]!;
  }

  /** Whether the page exists with no write right (a write to it panics instead of faulting). */
  private check(address: number, width: number, write: boolean): AccessFault | null {
    const pages = [address >>> 12];
    if ((address & 4095) + width > 4096) pages.push(((address + width) >>> 0) >>> 12);
    for (const p of pages) {
      if (this.frame(p, write) !== 0) continue;
      const exists = this.frame(p, false) !== 0;
      const at = p * PVM_PAGE_SIZE;
      return { panic: exists || at < RESERVED_BYTES, address: at };
    }
    return null;
  }

  private bytes8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Slow path of a load: `width` bytes little-endian (zero-extended), or 0 with the fault recorded. */
  slowLoad(address: number, width: number): bigint {
    address >>>= 0;
    const f = this.check(address, width, false);
    if (f !== null) {
      this.fault = f;
      this.view()[STATE_FAULT / 4] = 1;
      return 0n;
    }
    let v = 0n;
    const mem = this.bytes8();
    for (let i = width - 1; i >= 0; i--) {
      const a = (address + i) >>> 0;
      v = (v << 8n) | BigInt(mem[this.frame(a >>> 12, false) + (a & 4095)]!);
    }
    return v;
  }

  /** Slow path of a store: 0 when stored, 1 with the fault recorded (nothing written then). */
  slowStore(address: number, width: number, value: bigint): number {
    address >>>= 0;
    const f = this.check(address, width, true);
    if (f !== null) {
      this.fault = f;
      return 1;
    }
    const mem = this.bytes8();
    for (let i = 0; i < width; i++) {
      const a = (address + i) >>> 0;
      mem[this.frame(a >>> 12, true) + (a & 4095)] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
    return 0;
  }

  readMemory(address: number, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    const mem = this.bytes8();
    for (let at = 0; at < length;) {
      const a = (address + at) >>> 0;
      const f = this.frame(a >>> 12, false);
      if (f === 0) return null;
      const n = Math.min(PVM_PAGE_SIZE - (a & 4095), length - at);
      out.set(mem.subarray(f + (a & 4095), f + (a & 4095) + n), at);
      at += n;
    }
    return out;
  }

  /** Writes `data` at `address`; false (nothing written) when a byte is not writable. */
  writeMemory(address: number, data: Uint8Array): boolean {
    for (let at = 0; at < data.length;) {
      const a = (address + at) >>> 0;
      if (this.frame(a >>> 12, true) === 0) return false;
      at += PVM_PAGE_SIZE - (a & 4095);
    }
    const mem = this.bytes8();
    for (let at = 0; at < data.length;) {
      const a = (address + at) >>> 0;
      const f = this.frame(a >>> 12, true);
      const n = Math.min(PVM_PAGE_SIZE - (a & 4095), data.length - at);
      mem.set(data.subarray(at, at + n), f + (a & 4095));
      at += n;
    }
    return true;
  }

  /** Initial contents, ignoring write rights (program loading). */
  fill(address: number, data: Uint8Array): void {
    const mem = this.bytes8();
    for (let at = 0; at < data.length;) {
      const a = (address + at) >>> 0;
      const f = this.frame(a >>> 12, false);
      const n = Math.min(PVM_PAGE_SIZE - (a & 4095), data.length - at);
      if (f === 0) throw new Error(`initial memory at ${a} is outside the mapped pages`);
      mem.set(data.subarray(at, at + n), f + (a & 4095));
      at += n;
    }
  }
}

/**
 * A Wasm memory kept for the next run on this thread: creating one with the page tables' 8 MiB
 * costs about 1 ms (V8 commits the initial pages), more than a small run. Kept only when the run
 * mapped at most REUSE_MAX_FRAME_BYTES of frames (zeroing them is then cheap, and a memory a large
 * run grew is given back to the system), and used by one machine at a time.
 */
let spare: WebAssembly.Memory | undefined;
const REUSE_MAX_FRAME_BYTES = 4 << 20;

/** One instance of a translated program with its memory. Call `release` when done with it. */
export class TranslatedMachine {
  readonly memory: TranslatedMemory;
  private readonly run: (segment: number) => number;
  private readonly state: WebAssembly.Memory;

  /** @param maxBytes cap on the Wasm memory (bytes): an `sbrk` past it ends the run as a panic (`memoryLimit`) */
  constructor(
    readonly program: PvmCompiledProgram,
    maxBytes: number,
  ) {
    const { translation } = program;
    const initialBytes = translation.framesBase;
    let wasmMemory = spare;
    spare = undefined;
    if (wasmMemory === undefined) wasmMemory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / WASM_PAGE), maximum: 65536 });
    else if (wasmMemory.buffer.byteLength < initialBytes) wasmMemory.grow(Math.ceil((initialBytes - wasmMemory.buffer.byteLength) / WASM_PAGE));
    this.state = wasmMemory;
    this.memory = new TranslatedMemory(wasmMemory, translation.framesBase);
    new Int32Array(wasmMemory.buffer, JUMP_TABLE, translation.jumpSegments.length).set(translation.jumpSegments);
    const mem = this.memory;
    const instance = new WebAssembly.Instance(program.module, {
      env: {
        memory: wasmMemory,
        load: (address: number, width: number) => mem.slowLoad(address, width),
        store: (address: number, width: number, value: bigint) => mem.slowStore(address, width, value),
        sbrk: (amount: number) => mem.sbrk(amount >>> 0, maxBytes),
      },
    });
    this.run = instance.exports['run'] as (segment: number) => number;
  }

  /** Ends the machine's life: its memory, if small, is cleared and kept for the next machine. */
  release(): void {
    if (this.memory.frameBytes() > REUSE_MAX_FRAME_BYTES || spare !== undefined) return;
    this.memory.clear();
    spare = this.state;
  }

  private regs(): BigUint64Array {
    return new BigUint64Array(this.state.buffer, STATE_REGS, 13);
  }

  registers(): bigint[] {
    return Array.from(this.regs());
  }

  setRegisters(registers: readonly bigint[]): void {
    const r = this.regs();
    for (let i = 0; i < 13; i++) r[i] = BigInt.asUintN(64, registers[i] ?? 0n);
  }

  gas(): bigint {
    return new BigInt64Array(this.state.buffer, STATE_GAS, 1)[0]!;
  }

  setGas(gas: bigint): void {
    new BigInt64Array(this.state.buffer, STATE_GAS, 1)[0] = gas;
  }

  /** Runs from segment `segment` to the next exit; @returns the exit with its pc and argument. */
  enter(segment: number): { exit: WasmExit; pc: number; arg: number } {
    new Uint32Array(this.state.buffer, STATE_FAULT, 1)[0] = 0;
    this.memory.fault = null;
    const exit = this.run(segment) as WasmExit;
    const s = new Uint32Array(this.state.buffer, STATE_PC, 2);
    return { exit, pc: s[0]!, arg: s[1]! };
  }

  /** Segment index of a pc, or undefined when no segment starts there. */
  segmentAt(pc: number): number | undefined {
    return this.program.translation.segmentAt.get(pc);
  }

  /** pc after the instruction at `pc` (the interpreter's rule). */
  nextPc(pc: number): number {
    return nextPc(this.program.translation.code, pc);
  }
}
