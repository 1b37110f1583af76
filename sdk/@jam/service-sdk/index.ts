// @jam/service-sdk: typed helpers over the JAM Prototype's Wasm host calls (docs/service-guide.md,
// docs/service-abi.md). A service exports `refine(payload_len: i32, item_index: i32): i64` and
// `accumulate(operand_count: i32): i64` and builds them from the helpers below. Every helper is
// a thin wrapper: the gas a call costs is the host call's price (docs/gas.md "Host calls") plus
// the guest instructions of the wrapper itself.
//
// Memory: helpers that return a Uint8Array allocate it (the stub runtime never frees; each job
// runs on a fresh instance, so a job's allocations vanish with it).

import * as host from "./host";
import { FetchKind, LogLevel, NONE, WorkResult } from "./codes";

export * from "./codes";
export { gas as hostGas, fetch as hostFetch, lookup as hostLookup, read as hostRead, write as hostWrite, log as hostLog } from "./host";

/** 8 bytes of scratch for u64 values and result bytes (one per instance). */
const SCRATCH: usize = memory.data(8);

// ---------------------------------------------------------------------------------------------
// Bytes

/** The UTF-8 bytes of `text` (keys and values given as text). */
export function bytes(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

/** `bytes` decoded as UTF-8 (invalid sequences become U+FFFD). */
export function text(bytes: Uint8Array): string {
  return String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.length);
}

/** `a` followed by `b`. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  memory.copy(out.dataStart, a.dataStart, <usize>a.length);
  memory.copy(out.dataStart + <usize>a.length, b.dataStart, <usize>b.length);
  return out;
}

/** `value` as 8 bytes little-endian (how the example services store counters). */
export function u64Bytes(value: u64): Uint8Array {
  const out = new Uint8Array(8);
  store<u64>(out.dataStart, value);
  return out;
}

/** The first 8 bytes of `data` as a little-endian u64; `fallback` when `data` is shorter. */
export function readU64(data: Uint8Array, fallback: u64 = 0): u64 {
  return data.length >= 8 ? load<u64>(data.dataStart) : fallback;
}

// ---------------------------------------------------------------------------------------------
// Storage keys (at most MAX_STORAGE_KEY_BYTES = 256 bytes; `write` answers WHAT past it)

/** A storage key spelled as text: its UTF-8 bytes (`jam storage get <id> <text> --utf8` reads it). */
export function key(name: string): Uint8Array {
  return bytes(name);
}

/** `prefix` (UTF-8) followed by `id` as 4 bytes little-endian: one key per numbered record. */
export function keyU32(prefix: string, id: u32): Uint8Array {
  const p = bytes(prefix);
  const out = new Uint8Array(p.length + 4);
  memory.copy(out.dataStart, p.dataStart, <usize>p.length);
  store<u32>(out.dataStart + <usize>p.length, id);
  return out;
}

/** `prefix` (UTF-8) followed by `suffix`: one key per hash or other binary name. */
export function keyBytes(prefix: string, suffix: Uint8Array): Uint8Array {
  return concat(bytes(prefix), suffix);
}

// ---------------------------------------------------------------------------------------------
// Gas

/** Gas left after this call's own price (host call `gas`). */
export function gasRemaining(): u64 {
  return <u64>host.gas();
}

// ---------------------------------------------------------------------------------------------
// Refine inputs

/** The whole payload of this work item (refine; `payloadLength` is refine's first argument). */
export function payload(payloadLength: i32): Uint8Array {
  const out = new Uint8Array(payloadLength);
  if (payloadLength > 0) host.fetch(FetchKind.PAYLOAD, 0, out.dataStart, 0, payloadLength);
  return out;
}

/**
 * Copies payload bytes from `offset` into `into` (for payloads too large to hold at once);
 * returns how many bytes were copied (0 at the end).
 */
export function payloadChunk(into: Uint8Array, offset: i32, payloadLength: i32): i32 {
  const n = min(into.length, payloadLength - offset);
  if (n <= 0) return 0;
  host.fetch(FetchKind.PAYLOAD, 0, into.dataStart, offset, n);
  return n;
}

/** The preimage with Blake2b-256 `hash` (32 bytes) among the work item's extrinsics, or null (refine). */
export function lookupPreimage(hash: Uint8Array): Uint8Array | null {
  const len = host.lookup(hash.dataStart, 0, 0, 0);
  if (<u64>len == NONE || len < 0) return null;
  const out = new Uint8Array(<i32>len);
  if (len > 0) host.lookup(hash.dataStart, out.dataStart, 0, <i32>len);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results

/** Refine's return value for output `out` (at most MAX_REFINE_OUTPUT_BYTES, else `oversize`). */
export function refineOutput(out: Uint8Array): i64 {
  return (<i64>out.dataStart << 32) | <i64>out.length;
}

/** Refine's return value for an 8-byte little-endian `value`. */
export function refineOutputU64(value: u64): i64 {
  return refineOutput(u64Bytes(value));
}

/** Refine's return value for `message` as UTF-8 bytes. */
export function refineOutputText(message: string): i64 {
  return refineOutput(bytes(message));
}

/** Accumulate's return value when it succeeded: its writes are applied. */
export const ACCUMULATE_OK: i64 = 0;
/** Accumulate's return value to give up: any non-zero value makes it `panic`, its writes discarded. */
export const ACCUMULATE_FAILED: i64 = 1;

// ---------------------------------------------------------------------------------------------
// Accumulate inputs (operands: the work digests of one report for this service)

/** Operand `index`'s WorkResult code (WorkResult.OK, ...), or -1 when there is no such operand. */
export function operandResult(index: i32): i32 {
  return host.fetch(FetchKind.OPERAND_RESULT, index, SCRATCH, 0, 1) == 1 ? <i32>load<u8>(SCRATCH) : -1;
}

/** Whether operand `index` exists and refined `ok`. */
export function operandOk(index: i32): bool {
  return operandResult(index) == WorkResult.OK;
}

/** Operand `index`'s refine output, or null when it is not `ok` or does not exist. */
export function operandOutput(index: i32): Uint8Array | null {
  const len = host.fetch(FetchKind.OPERAND_OUTPUT, index, 0, 0, 0);
  if (<u64>len == NONE || len < 0) return null;
  const out = new Uint8Array(<i32>len);
  if (len > 0) host.fetch(FetchKind.OPERAND_OUTPUT, index, out.dataStart, 0, <i32>len);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Storage (accumulate only: refine gets WHAT from both calls)

/** This service's value at `key` (with this job's own earlier writes), or null when absent. */
export function storageRead(key: Uint8Array): Uint8Array | null {
  const len = host.read(key.dataStart, key.length, 0, 0, 0);
  if (<u64>len == NONE || len < 0) return null;
  const out = new Uint8Array(<i32>len);
  if (len > 0) host.read(key.dataStart, key.length, out.dataStart, 0, <i32>len);
  return out;
}

/** The u64 (8 bytes little-endian) at `key`, or `fallback` when absent or shorter. */
export function storageReadU64(key: Uint8Array, fallback: u64 = 0): u64 {
  store<u64>(SCRATCH, 0);
  return host.read(key.dataStart, key.length, SCRATCH, 0, 8) >= 8 ? load<u64>(SCRATCH) : fallback;
}

/**
 * Sets `key` to `value` (an empty value deletes). Returns the host result: the previous length,
 * NONE (was absent), WHAT (key over 256 bytes), FULL (value over 1 MiB, write-set cap or storage
 * quota: nothing changed), OOB.
 */
export function storageWrite(key: Uint8Array, value: Uint8Array): u64 {
  return <u64>host.write(key.dataStart, key.length, value.dataStart, value.length);
}

/** Sets `key` to `value` as 8 bytes little-endian; returns the host result as `storageWrite`. */
export function storageWriteU64(key: Uint8Array, value: u64): u64 {
  store<u64>(SCRATCH, value);
  return <u64>host.write(key.dataStart, key.length, SCRATCH, 8);
}

/** Deletes `key`; returns the previous length or NONE. */
export function storageDelete(key: Uint8Array): u64 {
  return <u64>host.write(key.dataStart, key.length, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Logging (kept beside the work report, shown by `jam run`; 64 lines of 1024 bytes per job)

/** Records `message` at `level` (LogLevel). */
export function log(level: i32, message: string): void {
  const b = String.UTF8.encode(message);
  host.log(level, changetype<usize>(b), b.byteLength);
}

/** Records `message` at LogLevel.INFO. */
export function logInfo(message: string): void {
  log(LogLevel.INFO, message);
}

/** Records `message` at LogLevel.WARN. */
export function logWarn(message: string): void {
  log(LogLevel.WARN, message);
}

/** Records `message` at LogLevel.ERROR. */
export function logError(message: string): void {
  log(LogLevel.ERROR, message);
}

/** Records `message` at LogLevel.DEBUG. */
export function logDebug(message: string): void {
  log(LogLevel.DEBUG, message);
}

/**
 * Logs `message` at LogLevel.ERROR, then traps (`unreachable`): the job ends `panic`, and the
 * report's guest log and trap detail say where (docs/service-guide.md).
 */
export function panic(message: string): void {
  log(LogLevel.ERROR, message);
  unreachable();
}
