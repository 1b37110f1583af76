import { GAS_GET_EXPORT, GAS_SET_EXPORT, MAX_REFINE_OUTPUT_BYTES } from './host-abi';
import { OutOfGas, type HostEnv, type HostJobContext } from './host-calls/host-call';
import { hostImports } from './host-calls/host-call.registry';
import { describeTrap, type TrapInfo } from './guest-trap';
import { MAX_GAS_LIMIT, type AccumulateOperand, type AccumulateOutcome, type RefineOutcome, type StorageQuota } from './sandbox.types';
import { footprintOf } from './storage-footprint';

/**
 * The engine, not the guest, failed: V8 ran out of native stack or memory (a RangeError). Validation
 * bounds frames so MAX_CALL_DEPTH frames fit the executor's stack (docs/sandbox.md), so this means
 * a bug in that bound or a starved machine. Its timing depends on the machine, so it is never
 * reported as a guest result: the job fails with an error instead (fail closed, nothing is signed).
 */
export class EngineFault extends Error {
  constructor(cause: Error) {
    super(`engine fault (not a guest result): ${cause.name}: ${cause.message}`);
    this.name = 'EngineFault';
  }
}

type Mode = HostJobContext['mode'];
type JobContext = HostJobContext;

interface RunResult {
  kind: 'returned' | 'out_of_gas' | 'panic';
  value: bigint;
  gasUsed: bigint;
  memory: Uint8Array;
  /** Why the job did not return (kind `out_of_gas` or `panic`). */
  trap?: TrapInfo;
}

function clampGas(limit: bigint): bigint {
  return limit < 0n ? 0n : limit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : limit;
}

/** Runs one entry point on a fresh instance of `module` with the host functions of docs/service-abi.md. */
function run(module: WebAssembly.Module, ctx: JobContext, gasLimit: bigint, entry: string, args: number[]): RunResult {
  let memory: WebAssembly.Memory | undefined;
  let getGas: () => bigint = () => 0n;
  let setGas: (value: bigint) => void = () => undefined;
  // one view of guest memory, renewed only when `memory.grow` replaced the buffer
  let buffer: ArrayBuffer | undefined;
  let view = new Uint8Array(0);
  const env: HostEnv = {
    job: ctx,
    charge(amount: bigint): void {
      if (amount === 0n) return;
      const left = getGas() - amount;
      if (left < 0n) {
        setGas(-1n);
        throw new OutOfGas();
      }
      setGas(left);
    },
    remaining: () => getGas(),
    memory(): Uint8Array {
      const b = (memory as WebAssembly.Memory).buffer;
      if (b !== buffer) {
        buffer = b;
        view = new Uint8Array(b);
      }
      return view;
    },
  };
  const mem = env.memory;
  const jam = hostImports(env);

  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, { jam });
  } catch (e) {
    if (e instanceof RangeError) throw new EngineFault(e);
    // validation rules out failing segments; anything else the guest caused is its own trap
    if (e instanceof WebAssembly.RuntimeError) return { kind: 'panic', value: 0n, gasUsed: 0n, memory: new Uint8Array(0), trap: describeTrap(e, false) };
    throw e;
  }
  memory = instance.exports['memory'] as WebAssembly.Memory;
  getGas = instance.exports[GAS_GET_EXPORT] as () => bigint;
  setGas = instance.exports[GAS_SET_EXPORT] as (value: bigint) => void;
  const limit = clampGas(gasLimit);
  setGas(limit);
  const fn = instance.exports[entry] as (...a: number[]) => bigint;
  let kind: RunResult['kind'] = 'returned';
  let value = 0n;
  let trap: TrapInfo | undefined;
  try {
    value = BigInt.asUintN(64, fn(...args));
  } catch (e) {
    // only guest-caused failures become results; a host bug or an engine fault must surface as an error
    if (e instanceof RangeError) throw new EngineFault(e);
    if (!(e instanceof OutOfGas || e instanceof WebAssembly.RuntimeError)) throw e;
    kind = getGas() < 0n ? 'out_of_gas' : 'panic';
    trap = describeTrap(e, kind === 'out_of_gas');
  }
  // metered code checks the counter only at checkpoints (docs/gas.md): a negative counter at the
  // end means the job ran past its limit after the last checkpoint
  if (kind === 'returned' && getGas() < 0n) {
    kind = 'out_of_gas';
    trap = { kind: 'out_of_gas', message: 'out of gas (after the last metering checkpoint)', frames: [] };
  }
  if (ctx.droppedLogs > 0) ctx.logs.push(`[dropped ${ctx.droppedLogs} log lines]`);
  const remaining = getGas();
  return { kind, value, gasUsed: remaining < 0n ? limit : limit - remaining, memory: mem(), ...(trap ? { trap } : {}) };
}

/** Refine input as the executor receives it: bytes and numbers only. */
export interface RefineJob {
  itemIndex: number;
  payload: Uint8Array;
  /** Imported segments (RefineRequest.imports); absent = none. */
  imports?: Uint8Array[];
  /** RefineRequest.exportOffset; absent = 0. */
  exportOffset?: number;
  gasLimit: bigint;
  preimages: Map<string, Uint8Array>;
  /** Service id and package hash (32 bytes): PVM refine arguments (GP 0.7.2); the Wasm ABI does not pass them. */
  serviceId?: number;
  packageHash?: Uint8Array;
  /** RefineRequest.workPackage: the encoded work package (PVM `fetch` selectors 7-13); absent = NONE for those. */
  workPackage?: Uint8Array;
}

/** Accumulate input as the executor receives it. */
export interface AccumulateJob {
  gasLimit: bigint;
  operands: AccumulateOperand[];
  storage: Map<string, Uint8Array>;
  /** Footprint caps `write` enforces (AccumulateRequest.storageQuota). */
  storageQuota: StorageQuota;
}

function newContext(mode: Mode, partial: Partial<JobContext>): JobContext {
  return {
    mode,
    payload: new Uint8Array(0),
    imports: [],
    exports: [],
    exportOffset: 0,
    preimages: new Map(),
    operands: [],
    storage: new Map(),
    overlay: new Map(),
    overlayBytes: 0,
    quota: { maxBytes: 0, maxItems: 0 },
    footprintBytes: 0,
    footprintItems: 0,
    logs: [],
    droppedLogs: 0,
    ...partial,
  };
}

/**
 * Runs `refine(payload_len, item_index)` of a metered module (from `meterServiceCode`).
 * Deterministic: same module bytes and job give the same outcome and gas.
 * @throws only on host bugs; guest failures are results
 */
export function executeRefine(module: WebAssembly.Module, job: RefineJob): RefineOutcome {
  const ctx = newContext('refine', { payload: job.payload, preimages: job.preimages, imports: job.imports ?? [], exportOffset: job.exportOffset ?? 0 });
  const r = run(module, ctx, job.gasLimit, 'refine', [job.payload.length, job.itemIndex]);
  const trap = r.trap ? { trap: r.trap } : {};
  const exports = ctx.exports;
  if (r.kind === 'out_of_gas') return { result: { out_of_gas: null }, gasUsed: r.gasUsed, logs: ctx.logs, exports, ...trap };
  if (r.kind === 'panic') return { result: { panic: null }, gasUsed: r.gasUsed, logs: ctx.logs, exports, ...trap };
  const ptr = Number(r.value >> 32n);
  const len = Number(r.value & 0xffffffffn);
  if (len > MAX_REFINE_OUTPUT_BYTES) return { result: { oversize: null }, gasUsed: r.gasUsed, logs: ctx.logs, exports };
  if (ptr + len > r.memory.length) {
    const message = `refine returned output [${ptr}, ${ptr + len}) outside its ${r.memory.length}-byte memory`;
    return { result: { panic: null }, gasUsed: r.gasUsed, logs: ctx.logs, exports, trap: { kind: 'bad_output_range', message, frames: [] } };
  }
  return { result: { ok: r.memory.slice(ptr, ptr + len) }, gasUsed: r.gasUsed, logs: ctx.logs, exports };
}

/**
 * Runs `accumulate(operand_count)` of a metered module. Status `ok` only if it returned 0;
 * writes are then the final value of every written key, sorted by key. `write` enforces the
 * write-set cap and `job.storageQuota` on the snapshot's footprint (computed here, once).
 * @throws only on host bugs
 */
export function executeAccumulate(module: WebAssembly.Module, job: AccumulateJob): AccumulateOutcome {
  const start = footprintOf(job.storage);
  const ctx = newContext('accumulate', {
    operands: job.operands,
    storage: job.storage,
    quota: job.storageQuota,
    footprintBytes: start.bytes,
    footprintItems: start.items,
  });
  const r = run(module, ctx, job.gasLimit, 'accumulate', [job.operands.length]);
  if (r.kind !== 'returned' || r.value !== 0n) {
    const trap: TrapInfo = r.trap ?? { kind: 'nonzero_return', message: `accumulate returned ${r.value} (only 0 is ok)`, frames: [] };
    return { status: r.kind === 'out_of_gas' ? 'out_of_gas' : 'panic', gasUsed: r.gasUsed, writes: [], logs: ctx.logs, trap };
  }
  const writes = [...ctx.overlay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, value]) => ({ key: new Uint8Array(Buffer.from(k.slice(2), 'hex')), value }));
  return { status: 'ok', gasUsed: r.gasUsed, writes, logs: ctx.logs };
}
