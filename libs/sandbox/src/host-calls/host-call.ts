import type { AccumulateOperand, StorageQuota } from '../sandbox.types';
import { HOST_OOB, I32, I64 } from '../host-abi';

/** Thrown by a host call when the gas runs out; the guest cannot catch it (no exception handling). */
export class OutOfGas extends Error {
  override name = 'OutOfGas';
}

/** Which entry point a job runs. */
export type HostCallMode = 'refine' | 'accumulate';

/** The job state host calls read and change (one per job, never shared between jobs). */
export interface HostJobContext {
  mode: HostCallMode;
  /** Work item payload (refine). */
  payload: Uint8Array;
  /** The work item's imported segments, in import order (refine; fetch kind 3), 4104 bytes each. */
  imports: Uint8Array[];
  /** Segments exported so far by this item (refine; `export`), 4104 bytes each. */
  exports: Uint8Array[];
  /** Segments exported by the package's earlier items: the first index `export` returns (refine). */
  exportOffset: number;
  /** Preimages `lookup` can see, by 0x-hex Blake2b-256 hash. */
  preimages: Map<string, Uint8Array>;
  operands: AccumulateOperand[];
  /** The service's storage snapshot by 0x-hex key (accumulate); read only. */
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

/**
 * What a host call handler may touch: the job, the gas counter and the guest's memory.
 * `charge` subtracts gas and throws OutOfGas (ending the job `out_of_gas`) when it would go
 * negative; handlers charge BEFORE the work they pay for (docs/gas.md, "Host calls").
 */
export interface HostEnv {
  readonly job: HostJobContext;
  /** @throws OutOfGas when fewer than `gas` remain (the counter is then left negative) */
  charge(gas: bigint): void;
  /** Gas left (gas). */
  remaining(): bigint;
  /** The guest's linear memory as it is now (a new view after every `memory.grow`). */
  memory(): Uint8Array;
}

/** Wasm value types a host call signature may use (I32 = 0x7f, I64 = 0x7e). */
export type HostValueType = typeof I32 | typeof I64;

/** JS values a handler receives for the Wasm params `P` (all i32 here: numbers, read as unsigned by the handler). */
export type HostCallArgs<P extends readonly HostValueType[]> = { [K in keyof P]: number };

/**
 * One host function of docs/service-abi.md: its exact Wasm signature (checked by the validator at
 * registration), its price (consensus-relevant, docs/gas.md cost table) and its handler.
 *
 * WARNING: `price` and what `handle` charges are part of the cost table: changing either changes
 * gas for the same code and input, so bump COST_TABLE_VERSION (cost-table.ts).
 */
export interface HostCall<P extends readonly HostValueType[] = readonly HostValueType[]> {
  /** Wasm params, in order. */
  readonly params: P;
  /** Wasm results: every host call returns one i64 carrying a u64 (GP result codes). */
  readonly results: readonly [typeof I64];
  /**
   * Gas the call charges: `base` before anything else (covers the call itself, argument checks and
   * fixed-size work such as hashing a 32-byte key), then per byte of variable-size work; the
   * per-byte rates each handler uses are named in its module and listed in docs/gas.md.
   */
  readonly price: { readonly base: bigint };
  /**
   * Runs the call. Returns the u64 result (GP 0.7.2 appendix B codes or a value).
   * @throws OutOfGas when the gas runs out (the job ends `out_of_gas`)
   */
  handle(env: HostEnv, ...args: HostCallArgs<P>): bigint;
}

/** Declares a host call, keeping its param tuple literal so `handle`'s arity is checked against the signature. */
export function defineHostCall<const P extends readonly HostValueType[]>(call: HostCall<P>): HostCall<P> {
  return call;
}

/** Gas for `bytes` bytes at 1 gas per `bytesPerGas` bytes, rounded up (0 for 0 bytes). */
export function gasForBytes(bytes: number, bytesPerGas: number): bigint {
  return bytes <= 0 ? 0n : BigInt(Math.ceil(bytes / bytesPerGas));
}

/** Whether `[ptr, ptr + len)` (u32s, as the guest passed them) lies inside guest memory. O(1). */
export function inGuestMemory(env: HostEnv, ptr: number, len: number): boolean {
  return (ptr >>> 0) + (len >>> 0) <= env.memory().length;
}

/**
 * Copies `len` bytes of guest memory at `ptr` out of the guest, charging 1 gas per `bytesPerGas`
 * bytes first. Returns undefined (nothing charged, nothing copied) when the range is outside memory.
 * @throws OutOfGas
 */
export function readGuest(env: HostEnv, ptr: number, len: number, bytesPerGas: number): Uint8Array | undefined {
  const p = ptr >>> 0;
  const l = len >>> 0;
  if (!inGuestMemory(env, p, l)) return undefined;
  env.charge(gasForBytes(l, bytesPerGas));
  return env.memory().slice(p, p + l);
}

/**
 * GP-style windowed copy into guest memory: bytes `[f, f + n)` of `obj`, `f = min(offset, L)`,
 * `n = min(maxLen, L - f)`, to `outPtr`. Charges 1 gas per `bytesPerGas` copied bytes (rounded up)
 * before copying. Returns `L` (obj length), or OOB with nothing charged or copied when the
 * destination is outside memory.
 * @throws OutOfGas
 */
export function windowedCopy(env: HostEnv, obj: Uint8Array, outPtr: number, offset: number, maxLen: number, bytesPerGas: number): bigint {
  const from = Math.min(offset >>> 0, obj.length);
  const len = Math.min(maxLen >>> 0, obj.length - from);
  const out = outPtr >>> 0;
  if (!inGuestMemory(env, out, len)) return HOST_OOB;
  env.charge(gasForBytes(len, bytesPerGas));
  env.memory().set(obj.subarray(from, from + len), out);
  return BigInt(obj.length);
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * 0x-prefixed lowercase hex of `bytes` (storage keys and preimage hashes are looked up by it): a
 * table loop for short inputs (a 32-byte hash), Buffer's encoder for longer ones (keys of up to
 * MAX_STORAGE_KEY_BYTES), whichever measured faster.
 */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > 48) return '0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let out = '0x';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i] as number] as string;
  return out;
}
