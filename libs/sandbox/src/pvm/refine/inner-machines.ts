/**
 * Inner PVM instances of a refine (GP 0.7.2 appendix B, `machine`/`peek`/`poke`/`pages`/`invoke`/
 * `expunge`: the refine context's `m`, a dictionary of machines with a program, memory and pc).
 * Each machine has its own interpreter instance (its own WebAssembly memory) and a page-access map
 * kept here, since the interpreter cannot change a page's access in place: `pages` rebuilds the
 * instance with the new map and the kept contents.
 *
 * Limits (ours; GP 0.7.2 sets none; docs/sandbox.md "PVM engine"): at most PVM_MAX_INNER_MACHINES
 * live machines and PVM_MAX_INNER_PAGES accessible pages over all of them (`machine` / `pages`
 * answer HUH past them), programs of at most W_C bytes, and the interpreter memory of all live
 * instances at most PVM_MAX_INNER_MEMORY_BYTES (past it the outer run ends as `panic`).
 */
import { AnanAs, AnanStatus } from '../anan-as.binding';
import { decodeCodeBlob, PVM_PAGE_SIZE, PvmProgramRejection, type PvmCodeBlob } from '../pvm-program';
import { pvmInterpreter, restOfBlock } from '../pvm.machine';
import { ADDRESS_SPACE, COPY_CHUNK } from './guest-memory';

/** Most inner machines alive at once in one refine (machines). */
export const PVM_MAX_INNER_MACHINES = 16;
/** Most accessible pages (of Z_P = 4096 bytes) over all live inner machines: 8192 pages = 32 MiB. */
export const PVM_MAX_INNER_PAGES = 8192;
/**
 * Cap on the interpreter memory (bytes) of all live inner instances together; the interpreter
 * allocates accessible pages when a machine is (re)built, about 2.25 bytes per accessible byte, so
 * PVM_MAX_INNER_PAGES stays under it; the cap also bounds pages an inner program touches otherwise.
 */
export const PVM_MAX_INNER_MEMORY_BYTES = 128 * 1024 * 1024;
/**
 * Our gas for creating an interpreter instance (gas), on top of GP's 10 for `machine`: about the
 * time of 10,000 instructions (a fresh instance takes about 0.4 ms), so gas bounds the time a
 * loop of `machine`/`expunge` takes.
 */
export const PVM_INNER_MACHINE_GAS = 10_000n;

/** GP 0.7.2 `pages`: pages below this index cannot be changed (the first 64 KiB). */
const FIRST_PAGE = 16;
/** Pages in the 32-bit address space (2^32 / Z_P). */
const PAGES = Number(ADDRESS_SPACE / BigInt(PVM_PAGE_SIZE));
/** Instructions per interpreter call between memory checks (as the outer machine). */
const STEP_CHUNK = 1 << 14;

/** Page access: read-only or writable (inaccessible pages are absent). */
type Access = 1 | 2;

interface Machine {
  code: Uint8Array;
  blob: PvmCodeBlob;
  /** Next instruction to run (GP `i`); u64 as the guest gave it. */
  pc: bigint;
  access: Map<number, Access>;
  vm: AnanAs;
}

/** GP 0.7.2 inner-invocation exit codes written to ω7 by `invoke`. */
export const INNER_EXIT = Object.freeze({ halt: 0n, panic: 1n, fault: 2n, host: 3n, oog: 4n });

/** Result of `invoke`: the exit (ω7, ω8), the inner registers and gas left, and the gas it used. */
export interface InnerInvokeResult {
  exit: bigint;
  /** ω8: the host-call index (host) or faulting page address (fault). */
  arg?: bigint;
  registers: bigint[];
  gasLeft: bigint;
  gasUsed: bigint;
}

function nextInstruction(blob: PvmCodeBlob, pc: number): number {
  let j = pc + 1;
  while (j < blob.code.length && j - pc - 1 < 24 && blob.starts[j] !== 1) j++;
  return j;
}

function build(code: Uint8Array, access: Map<number, Access>, chunks: { address: number; data: Uint8Array }[]): AnanAs {
  const pages = [...access.entries()].sort(([a], [b]) => a - b);
  const ranges: { address: number; length: number; writable: boolean }[] = [];
  for (const [page, a] of pages) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.address + last.length === page * PVM_PAGE_SIZE && last.writable === (a === 2)) last.length += PVM_PAGE_SIZE;
    else ranges.push({ address: page * PVM_PAGE_SIZE, length: PVM_PAGE_SIZE, writable: a === 2 });
  }
  const vm = pvmInterpreter();
  vm.resetGeneric(code, Array<bigint>(13).fill(0n), ranges, chunks, 0n);
  return vm;
}

/** The inner machines of one refine run. Not thread-safe; one per run. */
export class InnerMachines {
  private readonly machines = new Map<bigint, Machine>();
  private pageCount = 0;

  /** Live machines. */
  get size(): number {
    return this.machines.size;
  }

  has(n: bigint): boolean {
    return this.machines.has(n);
  }

  /**
   * GP `machine`: a new machine with program `code` (a generic program blob, GP A.2), no
   * accessible memory and pc `pc`. @returns its id (the smallest unused) or 'huh' when the blob is
   * refused (our decoder's rules, stricter than GP deblob: see docs/service-abi.md) or
   * PVM_MAX_INNER_MACHINES are alive.
   */
  create(code: Uint8Array, pc: bigint): bigint | 'huh' {
    if (this.machines.size >= PVM_MAX_INNER_MACHINES) return 'huh';
    let blob: PvmCodeBlob;
    try {
      blob = decodeCodeBlob(code);
    } catch (e) {
      if (e instanceof PvmProgramRejection) return 'huh';
      throw e;
    }
    const owned = code.slice();
    const access = new Map<number, Access>();
    let vm: AnanAs;
    try {
      vm = build(owned, access, []);
    } catch {
      return 'huh'; // the interpreter refused the program
    }
    let n = 0n;
    while (this.machines.has(n)) n++;
    this.machines.set(n, { code: owned, blob, pc, access, vm });
    return n;
  }

  private pagesOk(m: Machine, addr: bigint, len: bigint, need: Access): boolean {
    if (addr + len > ADDRESS_SPACE) return false;
    if (len === 0n) return true;
    const first = Number(addr / BigInt(PVM_PAGE_SIZE));
    const last = Number((addr + len - 1n) / BigInt(PVM_PAGE_SIZE));
    for (let p = first; p <= last; p++) if ((m.access.get(p) ?? 0) < need) return false;
    return true;
  }

  /** Whether machine `n`'s [addr, addr + len) is readable (GP `peek` source). The machine must exist. */
  readable(n: bigint, addr: bigint, len: bigint): boolean {
    return this.pagesOk(this.machines.get(n)!, addr, len, 1);
  }

  /** GP `peek` source: passes machine `n`'s memory [addr, addr + len) to `sink` in chunks (checked with `readable` first). */
  read(n: bigint, addr: bigint, len: bigint, sink: (offset: number, bytes: Uint8Array) => void): void {
    const m = this.machines.get(n)!;
    for (let at = 0n; at < len; at += BigInt(COPY_CHUNK)) {
      const k = len - at < BigInt(COPY_CHUNK) ? len - at : BigInt(COPY_CHUNK);
      sink(Number(at), m.vm.readMemory(Number(addr + at), Number(k))!);
    }
  }

  /** Whether machine `n`'s [addr, addr + len) is writable (GP `poke` destination). The machine must exist. */
  writable(n: bigint, addr: bigint, len: bigint): boolean {
    return this.pagesOk(this.machines.get(n)!, addr, len, 2);
  }

  /** Writes into machine `n` at `addr` (checked with `writable` first). */
  write(n: bigint, addr: bigint, data: Uint8Array): void {
    if (!this.machines.get(n)!.vm.writeMemory(Number(addr), data)) throw new Error('inner machine refused a write to a writable page');
  }

  /**
   * GP 0.7.2 `pages` (ω8 = first page `p`, ω9 = count `c`, ω10 = mode `r`): checks it and returns
   * its gas (ours: 1 per page in the range plus copyGas of the machine's accessible bytes, which the
   * rebuild copies) and the change, or 'huh' (r > 4, p < 16, p + c ≥ 2^20, r > 2 over an
   * inaccessible page, or over PVM_MAX_INNER_PAGES). The machine must exist.
   */
  planPages(n: bigint, p: bigint, c: bigint, r: bigint): 'huh' | { pages: number; bytes: number; apply: () => void } {
    const m = this.machines.get(n)!;
    if (r > 4n || p < BigInt(FIRST_PAGE) || p + c >= BigInt(PAGES)) return 'huh';
    const first = Number(p);
    const count = Number(c);
    let accessibleBefore = 0;
    for (let i = first; i < first + count; i++) if (m.access.has(i)) accessibleBefore++;
    if (r > 2n && accessibleBefore < count) return 'huh';
    const after = this.pageCount - accessibleBefore + (r === 0n ? 0 : count);
    if (after > PVM_MAX_INNER_PAGES) return 'huh';
    const kept = m.access.size - accessibleBefore + (r === 0n ? 0 : count);
    return {
      pages: count,
      bytes: kept * PVM_PAGE_SIZE,
      apply: () => {
        const chunks: { address: number; data: Uint8Array }[] = [];
        const access = new Map(m.access);
        for (let i = first; i < first + count; i++) {
          if (r === 0n) access.delete(i);
          else access.set(i, r === 1n || r === 3n ? 1 : 2);
        }
        for (const page of access.keys()) {
          const inRange = page >= first && page < first + count;
          if (inRange && r <= 2n) continue; // zeroed
          const data = m.vm.readMemory(page * PVM_PAGE_SIZE, PVM_PAGE_SIZE)!;
          if (data.some((x) => x !== 0)) chunks.push({ address: page * PVM_PAGE_SIZE, data });
        }
        m.vm = build(m.code, access, chunks);
        m.access = access;
        this.pageCount = after;
      },
    };
  }

  /** Interpreter memory of all live inner instances (bytes). */
  memoryBytes(): number {
    let total = 0;
    for (const m of this.machines.values()) total += m.vm.memoryBytes();
    return total;
  }

  /**
   * GP 0.7.2 `invoke`: runs machine `n` from its pc with `registers` and gas `budget` (the smaller
   * of the guest's gas and the outer machine's gas left) to an exit. Host call: exit 3 with the
   * index, pc moved past the `ecalli`; page fault: exit 2 with the page address, gas of the rest of
   * the block also charged (the PVM vectors' rule, pvm.machine.ts); out of gas: exit 4, gas 0;
   * panic 1; halt 0. @returns 'memory' when the inner instances' memory passed
   * PVM_MAX_INNER_MEMORY_BYTES (the outer run then ends as panic). The machine must exist.
   */
  invoke(n: bigint, registers: bigint[], budget: bigint): InnerInvokeResult | 'memory' {
    const m = this.machines.get(n)!;
    const vm = m.vm;
    vm.setRegisters(registers);
    vm.setGas(budget);
    vm.setNextPc(m.pc >= ADDRESS_SPACE ? Number(ADDRESS_SPACE - 1n) : Number(m.pc));
    while (vm.run(STEP_CHUNK)) if (this.memoryBytes() > PVM_MAX_INNER_MEMORY_BYTES) return 'memory';
    if (this.memoryBytes() > PVM_MAX_INNER_MEMORY_BYTES) return 'memory';
    const status = vm.status();
    const pc = vm.pc();
    let gasLeft = vm.gas();
    let exit: bigint;
    let arg: bigint | undefined;
    m.pc = BigInt(pc);
    switch (status) {
      case AnanStatus.HOST:
        exit = INNER_EXIT.host;
        arg = BigInt(vm.exitArg());
        m.pc = BigInt(nextInstruction(m.blob, pc));
        break;
      case AnanStatus.FAULT: {
        exit = INNER_EXIT.fault;
        arg = BigInt(vm.exitArg());
        const rest = restOfBlock(m.blob, pc);
        gasLeft = gasLeft > rest ? gasLeft - rest : 0n;
        break;
      }
      case AnanStatus.OOG:
        exit = INNER_EXIT.oog;
        gasLeft = 0n;
        break;
      case AnanStatus.HALT:
        exit = INNER_EXIT.halt;
        break;
      default:
        exit = INNER_EXIT.panic;
    }
    return { exit, ...(arg === undefined ? {} : { arg }), registers: vm.registers(), gasLeft, gasUsed: budget - gasLeft };
  }

  /** GP `expunge`: removes machine `n`; @returns its pc, or null when there is none. */
  expunge(n: bigint): bigint | null {
    const m = this.machines.get(n);
    if (m === undefined) return null;
    this.machines.delete(n);
    this.pageCount -= m.access.size;
    return m.pc;
  }
}
