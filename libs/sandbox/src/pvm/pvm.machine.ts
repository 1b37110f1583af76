/**
 * The PVM engine's machine: runs a program on the `@fluffylabs/anan-as` interpreter to an exit
 * (GP 0.7.2 appendix A, Ψ), handling host calls (`ecalli`) through a callback, and applying the
 * one gas rule where the interpreter and the PVM test vectors differ (below).
 *
 * Gas: every instruction costs 1 gas, charged as it runs (GP 0.7.2 A.1; the interpreter does
 * this). A page fault (GP 0.7.2 A.1, exit ☇ with the faulting page address) also consumes the gas
 * of the rest of its basic block: the official PVM vectors (w3f jamtestvectors pvm v0.4, made with
 * PolkaVM, which charges a basic block's gas when the block is entered) expect it, and with it all
 * 307 pass; without it the 9 page-fault vectors end 1 gas high (as typeberry's and anan-as's own
 * interpreters do). docs/sandbox.md, "PVM engine", states the rule.
 */
import { createHash } from 'node:crypto';
import { AnanAs, AnanStatus, ANAN_AS_VERSION, compileAnanAs } from './anan-as.binding';
import { decodeServiceBlob, PVM_ACCUMULATE_ENTRY, PVM_REFINE_ENTRY, type PvmCodeBlob, type PvmStandardProgram } from './pvm-program';
import { compilePvm, TranslatedMachine, type PvmCompiledProgram, type PvmMemoryView } from './pvm-wasm.machine';
import { PvmTranslationRefused, WasmExit } from './pvm-wasm.translator';

export type { PvmMemoryView } from './pvm-wasm.machine';

/**
 * Which PVM engine runs a program: the anan-as interpreter; the PVM-to-Wasm translator (throws
 * PvmTranslationRefused for a program it does not take); or `auto`, the translator with the
 * interpreter for the programs it refuses (the product's choice, PVM_ENGINE_IDENTITY 0.3.0).
 */
export type PvmEngineKind = 'interpreter' | 'translator' | 'auto';

/** The engine refine and accumulate run PVM services on (inner machines stay on the interpreter). */
export const PVM_PRODUCT_ENGINE: PvmEngineKind = 'auto';

/** How a PVM run ended (GP 0.7.2 A.1 exit reasons other than a host call, which is handled). */
export type PvmExit = 'halt' | 'panic' | 'page-fault' | 'out-of-gas';

/** Final machine state of a run. */
export interface PvmRunResult {
  exit: PvmExit;
  /** Program counter at the exit (code offset). */
  pc: number;
  /** Gas left (gas), never negative. */
  gasLeft: bigint;
  /** The 13 registers (u64). */
  registers: bigint[];
  /** For `page-fault`: the address of the faulting page (bytes). */
  faultAddress?: number;
  /** Set on a `panic` because the interpreter memory passed PVM_MAX_INTERPRETER_MEMORY_BYTES. */
  memoryLimit?: boolean;
}

/**
 * The machine as a host call sees it (GP 0.7.2 appendix B: registers ω, memory μ, gas ϱ).
 * `gasLeft` already has the host call's own cost deducted.
 */
export interface PvmHostContext {
  readonly index: number;
  gasLeft: bigint;
  registers: bigint[];
  /** Reads guest memory; null when any byte is not readable. */
  read(address: number, length: number): Uint8Array | null;
  /** Writes guest memory; false when a byte is not writable (the handler then ends the run as a panic). */
  write(address: number, data: Uint8Array): boolean;
}

/**
 * Handles one `ecalli`. It may change `gasLeft` (never up) and `registers`. Returning 'panic'
 * ends the run as a panic, 'out-of-gas' as out of gas with no gas left (GP: a host call may end
 * the machine; the latter when a call's own charge, e.g. an inner machine's gas, exceeds what is left).
 */
export type PvmHostCallHandler = (ctx: PvmHostContext) => void | 'panic' | 'out-of-gas';

/** Base gas of a host call (GP 0.7.2 appendix B: g = 10 for `gas` and for an unknown call). */
export const PVM_HOST_CALL_GAS = 10n;

/**
 * Instructions run per interpreter call between memory checks (no semantic effect). 2^14
 * instructions touch at most 64 MiB of new guest pages (one page per store), so the interpreter's
 * memory passes PVM_MAX_INTERPRETER_MEMORY_BYTES by at most that before it is stopped.
 */
const STEP_CHUNK = 1 << 14;

/**
 * Cap on the interpreter's WebAssembly memory (bytes), which holds every guest page touched.
 * The standard program's layout alone allows about 320 MiB, and `sbrk` grows the heap towards
 * 4 GiB at about one gas per 4 KiB page touched, so without a cap a cheap job could make an
 * executor take gigabytes (executor heap limits do not cover Wasm memory, docs/architecture.md
 * section 13). Checked every STEP_CHUNK instructions on a fresh instance per run, so where a run
 * passes it depends only on the program and its input: the run ends as `panic` there (our limit;
 * GP 0.7.2 sets none), and the instance is dropped with its memory.
 */
export const PVM_MAX_INTERPRETER_MEMORY_BYTES = 512 * 1024 * 1024;

/** Version of the PVM-to-Wasm translator (pvm-wasm.translator.ts; part of the PVM engine identity). */
export const PVM_TRANSLATOR_VERSION = 1;

/**
 * Identity of the PVM engine. WARNING: the report hash covers it (docs/architecture.md section 6);
 * bump `version` whenever results or gas could change for the same code and input.
 * `cost_table_version` 1 = one gas per instruction plus the page-fault rule above, host calls 10;
 * 2 (engine 0.2.0, the GP refine host calls) adds our charges for bytes a host call moves, inner
 * machine creation and inner gas (docs/service-abi.md, "PVM services").
 * 0.2.1: GP 0.7.2's `bad_exports` order (a trapped run of an item declaring exports is
 * `bad_exports`, as for Wasm engine 0.8.2); gas unchanged.
 * 0.3.0 (`jam-pvm`, was `jam-pvm-anan-as`): services run on the PVM-to-Wasm translator, the
 * interpreter only for programs it refuses (`sbrk`, over its caps) and for inner machines; same
 * gas, and memory exact after a page-crossing access where anan-as 1.2.0 was not (docs/sandbox.md).
 */
export const PVM_ENGINE_IDENTITY = Object.freeze({
  name: 'jam-pvm',
  version: `0.3.0+pvm2wasm.${PVM_TRANSLATOR_VERSION}+anan-as.${ANAN_AS_VERSION}`,
  cost_table_version: 2,
});

/**
 * A fresh interpreter instance (the `.wasm` is compiled once per thread). Every run gets its own,
 * so the interpreter memory a run sees (and the memory cap below) never depends on earlier runs.
 */
export function pvmInterpreter(): AnanAs {
  compileAnanAs();
  return new AnanAs();
}

/** Program loaded by `runPvm`: which bytes, how to load them, and the decoded code blob for the gas rule. */
export type PvmLoad =
  | {
      kind: 'service';
      /** the whole JAM service blob (metadata + standard program) */
      bytes: Uint8Array;
      blob: PvmCodeBlob;
      pc: number;
      args: Uint8Array;
    }
  | {
      kind: 'generic';
      /** a generic program blob (GP A.2) */
      bytes: Uint8Array;
      blob: PvmCodeBlob;
      pc: number;
      registers: readonly bigint[];
      pages: readonly { address: number; length: number; writable: boolean }[];
      chunks: readonly { address: number; data: Uint8Array }[];
    };

/**
 * Runs a program from `load.pc` with `gas` until it halts, panics, faults or runs out of gas,
 * calling `onHostCall` for every `ecalli` (after charging PVM_HOST_CALL_GAS; out of gas if less
 * is left). `inspect` sees the final machine (to read memory) before the next run replaces it.
 * @throws Error when the interpreter aborts (an engine fault, not a guest result)
 */
export function runPvm<T>(
  load: PvmLoad,
  gas: bigint,
  onHostCall: PvmHostCallHandler,
  inspect: (r: PvmRunResult, m: PvmMemoryView) => T,
  engine: PvmEngineKind = 'interpreter',
): T {
  if (engine !== 'interpreter') {
    const program = translated(load, engine === 'auto');
    if (program !== null) return runTranslated(program, load, gas, onHostCall, inspect);
  }
  const m = pvmInterpreter();
  if (load.kind === 'service') {
    m.resetStandard(load.bytes, load.pc, gas, load.args, true);
  } else {
    m.resetGeneric(load.bytes, load.registers, load.pages, load.chunks, gas);
    m.setNextPc(load.pc);
  }
  for (;;) {
    let overMemory = false;
    while (m.run(STEP_CHUNK)) {
      if (m.memoryBytes() > PVM_MAX_INTERPRETER_MEMORY_BYTES) {
        overMemory = true;
        break;
      }
    }
    if (overMemory || m.memoryBytes() > PVM_MAX_INTERPRETER_MEMORY_BYTES) return inspect({ ...finish(m, 'panic', m.gas()), memoryLimit: true }, m);
    const status = m.status();
    if (status === AnanStatus.HOST) {
      const left = m.gas();
      if (left < PVM_HOST_CALL_GAS) return inspect(finish(m, 'out-of-gas', 0n), m);
      const ctx: PvmHostContext = {
        index: m.exitArg(),
        gasLeft: left - PVM_HOST_CALL_GAS,
        registers: m.registers(),
        read: (address, length) => m.readMemory(address, length),
        write: (address, data) => m.writeMemory(address, data),
      };
      const verdict = onHostCall(ctx);
      if (verdict === 'panic') return inspect(finish(m, 'panic', ctx.gasLeft), m);
      if (verdict === 'out-of-gas') return inspect(finish(m, 'out-of-gas', 0n), m);
      m.setGas(ctx.gasLeft < 0n ? 0n : ctx.gasLeft);
      m.setRegisters(ctx.registers);
      continue;
    }
    if (status === AnanStatus.HALT) return inspect(finish(m, 'halt', m.gas()), m);
    if (status === AnanStatus.OOG) return inspect(finish(m, 'out-of-gas', 0n), m);
    if (status === AnanStatus.FAULT) {
      const rest = restOfBlock(load.blob, m.pc());
      const left = m.gas();
      const r = finish(m, 'page-fault', left > rest ? left - rest : 0n);
      r.faultAddress = m.exitArg();
      return inspect(r, m);
    }
    // PANIC (also an invalid instruction or jump): GP 0.7.2 A.1 ☇ panic
    return inspect(finish(m, 'panic', m.gas()), m);
  }
}

/**
 * Compiled translations by content (the code blob's bytes and the entry pcs), most recently used
 * last: a service is translated and compiled once per executor thread while it stays among the
 * last TRANSLATION_CACHE_SIZE programs run, like a compiled Wasm module; a refusal is remembered too.
 */
const translations = new Map<string, PvmCompiledProgram | PvmTranslationRefused>();
const TRANSLATION_CACHE_SIZE = 16;

/**
 * The compiled translation of a load's program: a service blob with both entry points (GP 0.7.2
 * appendix B: refine at 0, accumulate at 5), a generic blob with its start pc.
 * @returns null when refused and `fallback` is set
 * @throws PvmTranslationRefused when refused and not `fallback`
 */
export function translated(load: PvmLoad, fallback: boolean): PvmCompiledProgram | null {
  const entries = load.kind === 'service' ? [PVM_REFINE_ENTRY, PVM_ACCUMULATE_ENTRY, load.pc] : [load.pc];
  const { code, starts, jumpTable } = load.blob;
  const key = createHash('sha256')
    .update(code)
    .update(starts)
    .update(Uint32Array.from(jumpTable))
    .update([...new Set(entries)].sort((a, b) => a - b).join(','))
    .digest('hex');
  let program = translations.get(key);
  if (program !== undefined) translations.delete(key);
  if (program === undefined) {
    try {
      program = compilePvm(load.blob, entries);
    } catch (e) {
      if (!(e instanceof PvmTranslationRefused)) throw e;
      program = e;
    }
  }
  translations.set(key, program);
  if (translations.size > TRANSLATION_CACHE_SIZE) translations.delete(translations.keys().next().value!);
  if (program instanceof PvmTranslationRefused) {
    if (fallback) return null;
    throw program;
  }
  return program;
}

/** Z_Z, Z_I and the page size (bytes, GP 0.7.2 A.7). */
const ZONE = 1 << 16;
const PAGE = 1 << 12;
const ARGS_START = 2 ** 32 - ZONE - (1 << 24);
const STACK_END = ARGS_START - ZONE;
const pagesOf = (bytes: number): number => Math.ceil(bytes / PAGE);

/**
 * Lays out a standard program's memory and registers as the interpreter's `resetJAM` does
 * (anan-as `decodeSpi`, GP 0.7.2 A.7): read-only data at Z_Z; read-write data at 2·Z_Z + Z(|o|)
 * then the heap's z zero pages, writable; the stack (s rounded up to pages) ending Z_Z below the
 * arguments, writable; the arguments at 2^32 - Z_Z - Z_I, read-only. ω0 = 2^32 - 2^16, ω1 = the
 * stack's end, ω7 = the arguments' address, ω8 = their length.
 */
function layStandard(m: TranslatedMachine, p: PvmStandardProgram, args: Uint8Array): bigint[] {
  const ro = p.readOnlyData.length;
  const rw = p.readWriteData.length;
  const heapStart = 2 * ZONE + Math.ceil(ro / ZONE) * ZONE;
  const zerosStart = heapStart + pagesOf(rw) * PAGE;
  const stackPages = pagesOf(p.stackSize);
  if (ro > 0) m.memory.map(ZONE / PAGE, pagesOf(ro), false);
  if (args.length > 0) m.memory.map(ARGS_START / PAGE, pagesOf(args.length), false);
  if (rw > 0) m.memory.map(heapStart / PAGE, pagesOf(rw), true);
  if (p.heapPages > 0) m.memory.map(zerosStart / PAGE, p.heapPages, true);
  if (stackPages > 0) m.memory.map(STACK_END / PAGE - stackPages, stackPages, true);
  // anan-as: the heap ends after the zero pages and may grow up to the stack
  const heapEnd = zerosStart + p.heapPages * PAGE;
  m.memory.heap = { end: heapEnd, max: STACK_END - stackPages * PAGE, lastPage: Math.floor(heapEnd / PAGE) - 1 };
  m.memory.fill(ZONE, p.readOnlyData);
  m.memory.fill(heapStart, p.readWriteData);
  m.memory.fill(ARGS_START, args);
  const registers = Array<bigint>(13).fill(0n);
  registers[0] = 0xffff0000n;
  registers[1] = BigInt(STACK_END);
  registers[7] = BigInt(ARGS_START);
  registers[8] = BigInt(args.length);
  return registers;
}

/**
 * `runPvm` on the translator (pvm-wasm.translator.ts): same results as the interpreter for the
 * same program, gas and host calls (status, pc, gas, registers, memory; for out of gas, status,
 * pc and gas: see pvm-wasm.machine.ts), except where anan-as 1.2.0 departs from the GP after a
 * page-crossing access (docs/sandbox.md, "PVM engine").
 */
function runTranslated<T>(
  program: PvmCompiledProgram,
  load: PvmLoad,
  gas: bigint,
  onHostCall: PvmHostCallHandler,
  inspect: (r: PvmRunResult, m: PvmMemoryView) => T,
): T {
  const m = new TranslatedMachine(program, PVM_MAX_INTERPRETER_MEMORY_BYTES);
  try {
    if (load.kind === 'service') {
      m.setRegisters(layStandard(m, decodeServiceBlob(load.bytes).program, load.args));
    } else {
      // anan-as: the heap starts after the highest writable page or initial chunk (at least 2^16)
      let end = 1 << 16;
      for (const p of load.pages) {
        m.memory.map(p.address >>> 12, Math.ceil(p.length / 4096), p.writable);
        if (p.writable) end = Math.max(end, p.address + p.length);
      }
      for (const c of load.chunks) {
        m.memory.fill(c.address, c.data);
        end = Math.max(end, c.address + c.data.length);
      }
      const page = Math.floor(end / PAGE);
      m.memory.heap = { end, max: 0xffffffff, lastPage: m.memory.readMemory(page * PAGE, 1) !== null ? page : page - 1 };
      m.setRegisters(load.registers);
    }
    m.setGas(gas);
    const { segments, sites } = program.translation;
    const result = (exit: PvmExit, pc: number, gasLeft: bigint): PvmRunResult => ({ exit, pc, gasLeft, registers: m.registers() });
    let segment = m.segmentAt(load.pc)!;
    for (;;) {
      const x = m.enter(segment);
      const left = m.gas();
      switch (x.exit) {
        case WasmExit.Halt:
          return inspect(result('halt', x.pc, left), m.memory);
        case WasmExit.Panic:
          return inspect(result('panic', x.pc, left), m.memory);
        case WasmExit.OutOfGas: {
          const s = segments[x.arg]!;
          return inspect(result('out-of-gas', s.pcs[Number(left + BigInt(s.pcs.length))]!, 0n), m.memory);
        }
        case WasmExit.Site: {
          const site = sites[x.arg]!;
          const s = segments[site.segment]!;
          const atEntry = left + BigInt(s.pcs.length);
          if (atEntry < BigInt(site.index + 1)) return inspect(result('out-of-gas', s.pcs[Number(atEntry)]!, 0n), m.memory);
          const after = atEntry - BigInt(site.index + 1);
          const pc = s.pcs[site.index]!;
          const fault = m.memory.fault!;
          if (fault.memoryLimit === true) return inspect({ ...result('panic', pc, after), memoryLimit: true }, m.memory);
          if (fault.panic) return inspect(result('panic', pc, after), m.memory);
          const rest = restOfBlock(load.blob, pc);
          const r = result('page-fault', pc, after > rest ? after - rest : 0n);
          r.faultAddress = fault.address;
          return inspect(r, m.memory);
        }
        case WasmExit.Host: {
          if (left < PVM_HOST_CALL_GAS) return inspect(result('out-of-gas', x.pc, 0n), m.memory);
          const ctx: PvmHostContext = {
            index: x.arg,
            gasLeft: left - PVM_HOST_CALL_GAS,
            registers: m.registers(),
            read: (address, length) => m.memory.readMemory(address, length),
            write: (address, data) => m.memory.writeMemory(address, data),
          };
          const verdict = onHostCall(ctx);
          if (verdict === 'panic') return inspect(result('panic', x.pc, ctx.gasLeft), m.memory);
          if (verdict === 'out-of-gas') return inspect(result('out-of-gas', x.pc, 0n), m.memory);
          m.setGas(ctx.gasLeft < 0n ? 0n : ctx.gasLeft);
          m.setRegisters(ctx.registers);
          segment = m.segmentAt(m.nextPc(x.pc))!;
          continue;
        }
        default:
          throw new Error(`translated PVM code exited with status ${x.exit} (entry segment ${segment})`);
      }
    }
  } finally {
    m.release();
  }
}

function finish(m: AnanAs, exit: PvmExit, gasLeft: bigint): PvmRunResult {
  return { exit, pc: m.pc(), gasLeft, registers: m.registers() };
}

/** GP 0.7.2 A.5 opcodes that end a basic block (T): trap, fallthrough, jumps, load_imm_jump(_ind), branches. */
const TERMINATORS = new Set([0, 1, 40, 50, 80, 180, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 170, 171, 172, 173, 174, 175]);

/** Whether `opcode` is an instruction of GP 0.7.2 A.5 (anything else runs as `trap`, so it ends a block too). */
function isOpcode(op: number): boolean {
  return (
    op <= 1 ||
    op === 10 ||
    op === 20 ||
    (op >= 30 && op <= 33) ||
    op === 40 ||
    (op >= 50 && op <= 62) ||
    (op >= 70 && op <= 73) ||
    (op >= 80 && op <= 90) ||
    (op >= 100 && op <= 111) ||
    (op >= 120 && op <= 161) ||
    (op >= 170 && op <= 175) ||
    op === 180 ||
    (op >= 190 && op <= 230)
  );
}

/**
 * Gas of the instructions of `pc`'s basic block after `pc`, one each (GP 0.7.2 A.2: the next
 * instruction is at pc + 1 + skip(pc), skip at most 24, the bitmask read as 1 past the code; the
 * block ends with a terminator, an unknown opcode, or the implicit `trap` past the code's end).
 */
export function restOfBlock(blob: PvmCodeBlob, pc: number): bigint {
  const { code, starts } = blob;
  const next = (i: number): number => {
    let j = i + 1;
    while (j < code.length && j - i - 1 < 24 && starts[j] !== 1) j++;
    return j;
  };
  const ends = (i: number): boolean => TERMINATORS.has(code[i]!) || !isOpcode(code[i]!);
  if (pc >= code.length || ends(pc)) return 0n;
  let rest = 0n;
  for (let i = next(pc); ; i = next(i)) {
    rest++;
    if (i >= code.length || ends(i)) return rest;
  }
}
