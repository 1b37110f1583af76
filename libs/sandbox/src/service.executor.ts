import type { WorkExecResult } from '@jam/domain';
import { GAS_HOST_CALL, HOST_BYTES_PER_GAS } from './cost-table';
import {
  GAS_GET_EXPORT,
  GAS_SET_EXPORT,
  HOST_FULL,
  HOST_NONE,
  HOST_OK,
  HOST_OOB,
  HOST_WHAT,
  MAX_LOG_BYTES,
  MAX_LOG_LINES,
  MAX_REFINE_OUTPUT_BYTES,
  MAX_STORAGE_KEY_BYTES,
  MAX_STORAGE_VALUE_BYTES,
  MAX_WRITE_SET_BYTES,
  MAX_WRITE_SET_KEYS,
} from './host-abi';
import { MAX_GAS_LIMIT, type AccumulateOperand, type AccumulateOutcome, type RefineOutcome, type StorageQuota } from './sandbox.types';
import { footprintOf } from './storage-footprint';
import { WORK_EXEC_RESULT_KINDS } from '@jam/domain';

/** Thrown by a host function when the gas runs out; the guest cannot catch it (no exception handling). */
class OutOfGas extends Error {}

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

type Mode = 'refine' | 'accumulate';

interface JobContext {
  mode: Mode;
  payload: Uint8Array;
  preimages: Map<string, Uint8Array>;
  operands: AccumulateOperand[];
  storage: Map<string, Uint8Array>;
  /** Writes so far, by key hex; null = deleted. The write-set: at most MAX_WRITE_SET_KEYS entries. */
  overlay: Map<string, Uint8Array | null>;
  /** Sum over `overlay` of key length + value length (null counts 0), at most MAX_WRITE_SET_BYTES (bytes). */
  overlayBytes: number;
  /** Footprint caps of this job (accumulate); a write that grows the footprint must stay within both. */
  quota: StorageQuota;
  /** Footprint of `storage` overlaid with `overlay`: key + value bytes of every present key (bytes). */
  footprintBytes: number;
  /** Footprint of `storage` overlaid with `overlay`: number of present keys. */
  footprintItems: number;
  logs: string[];
  droppedLogs: number;
}

interface RunResult {
  kind: 'returned' | 'out_of_gas' | 'panic';
  value: bigint;
  gasUsed: bigint;
  memory: Uint8Array;
}

function toHex(bytes: Uint8Array): string {
  return '0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function clampGas(limit: bigint): bigint {
  return limit < 0n ? 0n : limit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : limit;
}

function sanitizeLog(level: number, bytes: Uint8Array): string {
  const cut = bytes.length > MAX_LOG_BYTES;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(cut ? bytes.subarray(0, MAX_LOG_BYTES) : bytes);
  // escape control characters so a guest cannot forge log lines or terminal sequences
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return `[${level}] ${safe}${cut ? ' [cut]' : ''}`;
}

function resultCode(result: WorkExecResult): number {
  const kind = Object.keys(result)[0] as (typeof WORK_EXEC_RESULT_KINDS)[number];
  return WORK_EXEC_RESULT_KINDS.indexOf(kind);
}

/** Runs one entry point on a fresh instance of `module` with the host functions of docs/service-abi.md. */
function run(module: WebAssembly.Module, ctx: JobContext, gasLimit: bigint, entry: string, args: number[]): RunResult {
  let memory: WebAssembly.Memory | undefined;
  let getGas: () => bigint = () => 0n;
  let setGas: (value: bigint) => void = () => undefined;
  const mem = (): Uint8Array => new Uint8Array((memory as WebAssembly.Memory).buffer);

  const charge = (amount: bigint): void => {
    const left = getGas() - amount;
    if (left < 0n) {
      setGas(-1n);
      throw new OutOfGas();
    }
    setGas(left);
  };
  const chargeBytes = (n: number): void => {
    if (n > 0) charge(BigInt(Math.ceil(n / HOST_BYTES_PER_GAS)));
  };
  const inMemory = (ptr: number, len: number): boolean => ptr + len <= mem().length;
  /** GP-style windowed copy: bytes [offset, offset + maxLen) of `obj`, clipped to its length. */
  const copyOut = (obj: Uint8Array, outPtr: number, offset: number, maxLen: number): bigint => {
    const from = Math.min(offset >>> 0, obj.length);
    const len = Math.min(maxLen >>> 0, obj.length - from);
    const out = outPtr >>> 0;
    if (!inMemory(out, len)) return HOST_OOB;
    chargeBytes(len);
    mem().set(obj.subarray(from, from + len), out);
    return BigInt(obj.length);
  };
  const readBytes = (ptr: number, len: number): Uint8Array | undefined => {
    const p = ptr >>> 0;
    const l = len >>> 0;
    if (!inMemory(p, l)) return undefined;
    chargeBytes(l);
    return mem().slice(p, p + l);
  };

  const jam = {
    gas: (): bigint => {
      charge(GAS_HOST_CALL);
      return getGas();
    },
    fetch: (kind: number, index: number, outPtr: number, offset: number, maxLen: number): bigint => {
      charge(GAS_HOST_CALL);
      let obj: Uint8Array | undefined;
      if (kind === 0 && ctx.mode === 'refine') obj = ctx.payload;
      else if ((kind === 1 || kind === 2) && ctx.mode === 'accumulate') {
        const op = ctx.operands[index >>> 0];
        if (op !== undefined) {
          if (kind === 2) obj = Uint8Array.of(resultCode(op.result));
          else if ('ok' in op.result) obj = op.result.ok;
        }
      }
      return obj === undefined ? HOST_NONE : copyOut(obj, outPtr, offset, maxLen);
    },
    lookup: (hashPtr: number, outPtr: number, offset: number, maxLen: number): bigint => {
      charge(GAS_HOST_CALL);
      const hash = readBytes(hashPtr, 32);
      if (hash === undefined) return HOST_OOB;
      const preimage = ctx.preimages.get(toHex(hash));
      return preimage === undefined ? HOST_NONE : copyOut(preimage, outPtr, offset, maxLen);
    },
    read: (keyPtr: number, keyLen: number, outPtr: number, offset: number, maxLen: number): bigint => {
      charge(GAS_HOST_CALL);
      if (ctx.mode !== 'accumulate') return HOST_WHAT;
      const key = readBytes(keyPtr, keyLen);
      if (key === undefined) return HOST_OOB;
      const k = toHex(key);
      const value = ctx.overlay.has(k) ? ctx.overlay.get(k) : ctx.storage.get(k);
      return value === undefined || value === null ? HOST_NONE : copyOut(value, outPtr, offset, maxLen);
    },
    write: (keyPtr: number, keyLen: number, valPtr: number, valLen: number): bigint => {
      charge(GAS_HOST_CALL);
      if (ctx.mode !== 'accumulate') return HOST_WHAT;
      if (keyLen >>> 0 > MAX_STORAGE_KEY_BYTES) return HOST_WHAT;
      if (valLen >>> 0 > MAX_STORAGE_VALUE_BYTES) return HOST_FULL;
      const key = readBytes(keyPtr, keyLen);
      // the value is charged (and range-checked) exactly as before the write-set cap existed, but
      // only copied once the write is known to fit
      const valP = valPtr >>> 0;
      const valL = valLen >>> 0;
      const valueInMemory = inMemory(valP, valL);
      if (valueInMemory) chargeBytes(valL);
      if (key === undefined || !valueInMemory) return HOST_OOB;
      const k = toHex(key);
      // write-set cap (docs/service-abi.md): size after this write, counting an overwrite of a key
      // already in the write-set as a replacement of its previous value
      const inWriteSet = ctx.overlay.has(k);
      const pending = ctx.overlay.get(k);
      const bytesAfter = ctx.overlayBytes - (inWriteSet ? key.length + (pending?.length ?? 0) : 0) + key.length + valL;
      const keysAfter = ctx.overlay.size + (inWriteSet ? 0 : 1);
      // a write that does not grow the write-set always fits: both sums only ever stay within the caps
      if (bytesAfter > MAX_WRITE_SET_BYTES || keysAfter > MAX_WRITE_SET_KEYS) return HOST_FULL;
      // storage footprint quota (docs/service-abi.md; GP 0.7.2 write answers FULL past the balance):
      // the stored snapshot overlaid with the write-set, kept as running totals. Only a write that
      // grows the footprint can be refused, so a service over its quota can still shrink or delete.
      // An insert always grows the bytes (values are at least 1 byte), so growth is a bytes test.
      const prev = inWriteSet ? pending : ctx.storage.get(k);
      const present = prev !== undefined && prev !== null;
      const footprintBytesAfter = ctx.footprintBytes - (present ? key.length + prev.length : 0) + (valL === 0 ? 0 : key.length + valL);
      const footprintItemsAfter = ctx.footprintItems - (present ? 1 : 0) + (valL === 0 ? 0 : 1);
      if (footprintBytesAfter > ctx.footprintBytes && (footprintBytesAfter > ctx.quota.maxBytes || footprintItemsAfter > ctx.quota.maxItems)) return HOST_FULL;
      ctx.overlay.set(k, valL === 0 ? null : mem().slice(valP, valP + valL));
      ctx.overlayBytes = bytesAfter;
      ctx.footprintBytes = footprintBytesAfter;
      ctx.footprintItems = footprintItemsAfter;
      return present ? BigInt(prev.length) : HOST_NONE;
    },
    log: (level: number, msgPtr: number, msgLen: number): bigint => {
      charge(GAS_HOST_CALL);
      const len = Math.min(msgLen >>> 0, MAX_LOG_BYTES + 1);
      const msg = readBytes(msgPtr, len);
      if (msg === undefined) return HOST_OOB;
      if (ctx.logs.length < MAX_LOG_LINES) ctx.logs.push(sanitizeLog(level, msg));
      else ctx.droppedLogs++;
      return HOST_OK;
    },
  };

  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, { jam });
  } catch (e) {
    if (e instanceof RangeError) throw new EngineFault(e);
    // validation rules out failing segments; anything else the guest caused is its own trap
    if (e instanceof WebAssembly.RuntimeError) return { kind: 'panic', value: 0n, gasUsed: 0n, memory: new Uint8Array(0) };
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
  try {
    value = BigInt.asUintN(64, fn(...args));
  } catch (e) {
    // only guest-caused failures become results; a host bug or an engine fault must surface as an error
    if (e instanceof RangeError) throw new EngineFault(e);
    if (!(e instanceof OutOfGas || e instanceof WebAssembly.RuntimeError)) throw e;
    kind = getGas() < 0n ? 'out_of_gas' : 'panic';
  }
  // metered code checks the counter only at checkpoints (docs/gas.md): a negative counter at the
  // end means the job ran past its limit after the last checkpoint
  if (kind === 'returned' && getGas() < 0n) kind = 'out_of_gas';
  if (ctx.droppedLogs > 0) ctx.logs.push(`[dropped ${ctx.droppedLogs} log lines]`);
  const remaining = getGas();
  return { kind, value, gasUsed: remaining < 0n ? limit : limit - remaining, memory: mem() };
}

/** Refine input as the executor receives it: bytes and numbers only. */
export interface RefineJob {
  itemIndex: number;
  payload: Uint8Array;
  gasLimit: bigint;
  preimages: Map<string, Uint8Array>;
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
  const ctx = newContext('refine', { payload: job.payload, preimages: job.preimages });
  const r = run(module, ctx, job.gasLimit, 'refine', [job.payload.length, job.itemIndex]);
  if (r.kind === 'out_of_gas') return { result: { out_of_gas: null }, gasUsed: r.gasUsed, logs: ctx.logs };
  if (r.kind === 'panic') return { result: { panic: null }, gasUsed: r.gasUsed, logs: ctx.logs };
  const ptr = Number(r.value >> 32n);
  const len = Number(r.value & 0xffffffffn);
  if (len > MAX_REFINE_OUTPUT_BYTES) return { result: { oversize: null }, gasUsed: r.gasUsed, logs: ctx.logs };
  if (ptr + len > r.memory.length) return { result: { panic: null }, gasUsed: r.gasUsed, logs: ctx.logs };
  return { result: { ok: r.memory.slice(ptr, ptr + len) }, gasUsed: r.gasUsed, logs: ctx.logs };
}

/**
 * Runs `accumulate(operand_count)` of a metered module. Status `ok` only if it returned 0;
 * writes are then the final value of every written key, sorted by key. `write` enforces the
 * write-set cap and `job.storageQuota` on the snapshot's footprint (computed here, once).
 * @throws only on host bugs
 */
export function executeAccumulate(module: WebAssembly.Module, job: AccumulateJob): AccumulateOutcome {
  const start = footprintOf(job.storage);
  const ctx = newContext('accumulate', { operands: job.operands, storage: job.storage, quota: job.storageQuota, footprintBytes: start.bytes, footprintItems: start.items });
  const r = run(module, ctx, job.gasLimit, 'accumulate', [job.operands.length]);
  if (r.kind !== 'returned' || r.value !== 0n) return { status: r.kind === 'out_of_gas' ? 'out_of_gas' : 'panic', gasUsed: r.gasUsed, writes: [], logs: ctx.logs };
  const writes = [...ctx.overlay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, value]) => ({ key: new Uint8Array(Buffer.from(k.slice(2), 'hex')), value }));
  return { status: 'ok', gasUsed: r.gasUsed, writes, logs: ctx.logs };
}
