/**
 * Guest-memory and gas helpers for PVM host calls (GP 0.7.2 appendix B): ranges come from u64
 * registers, so every range is checked against the 32-bit address space before it reaches the
 * interpreter, and large copies go in chunks.
 */
import { HOST_COPY_BYTES_PER_GAS } from '../../cost-table';
import type { PvmHostContext } from '../pvm.machine';

/** 2^32: the PVM address space (bytes). */
export const ADDRESS_SPACE = 1n << 32n;
/**
 * Largest piece one interpreter read or write moves (bytes); no semantic effect. 64 KiB: the
 * interpreter's memory API slows down per byte on larger pieces (measured: 1 MiB pieces cost about
 * 5 times more per byte than 4 KiB ones, performance.md "PVM refine host calls").
 */
export const COPY_CHUNK = 1 << 16;

/**
 * Our per-byte charge for bytes a host call moves (gas), on top of GP 0.7.2's flat 10: 1 gas per
 * HOST_COPY_BYTES_PER_GAS (4) bytes, rounded up, the Wasm host calls' rate, so that gas bounds the
 * time a call takes (GP 0.7.2 prices every refine call at 10 whatever it copies).
 */
export function copyGas(bytes: bigint | number): bigint {
  const n = BigInt(bytes);
  const per = BigInt(HOST_COPY_BYTES_PER_GAS);
  return n <= 0n ? 0n : (n + per - 1n) / per;
}

/** Deducts `gas` from the call's context; false (nothing deducted) when less is left: the handler then answers 'out-of-gas'. */
export function charge(ctx: PvmHostContext, gas: bigint): boolean {
  if (ctx.gasLeft < gas) return false;
  ctx.gasLeft -= gas;
  return true;
}

/** μ[addr .. addr + len], or null when a byte is unreadable or past 2^32. `len` at most COPY_CHUNK unless the caller bounded it. */
export function readGuest(ctx: PvmHostContext, addr: bigint, len: bigint): Uint8Array | null {
  if (len === 0n) return new Uint8Array(0);
  if (addr + len > ADDRESS_SPACE) return null;
  return ctx.read(Number(addr), Number(len));
}

/** Writes `data` at `addr`; false when a byte is not writable or past 2^32 (the handler then panics). */
export function writeGuest(ctx: PvmHostContext, addr: bigint, data: Uint8Array): boolean {
  if (data.length === 0) return true;
  if (addr + BigInt(data.length) > ADDRESS_SPACE) return false;
  return ctx.write(Number(addr), data);
}

/** Whether every byte of [addr, addr + len) is readable, checked in chunks. */
export function guestReadable(ctx: PvmHostContext, addr: bigint, len: bigint): boolean {
  if (addr + len > ADDRESS_SPACE) return false;
  for (let at = 0n; at < len; at += BigInt(COPY_CHUNK)) {
    const n = len - at < BigInt(COPY_CHUNK) ? len - at : BigInt(COPY_CHUNK);
    if (readGuest(ctx, addr + at, n) === null) return false;
  }
  return true;
}

/**
 * Whether every byte of [addr, addr + len) is writable (GP V*), checked in chunks by writing back
 * what is there (no change when it holds). When it returns false the caller ends the run.
 */
export function guestWritable(ctx: PvmHostContext, addr: bigint, len: bigint): boolean {
  if (addr + len > ADDRESS_SPACE) return false;
  for (let at = 0n; at < len; at += BigInt(COPY_CHUNK)) {
    const n = len - at < BigInt(COPY_CHUNK) ? len - at : BigInt(COPY_CHUNK);
    const bytes = readGuest(ctx, addr + at, n);
    if (bytes === null || !writeGuest(ctx, addr + at, bytes)) return false;
  }
  return true;
}

/** u64 little-endian at `at` in `b`. */
export function readU64(b: Uint8Array, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
}

/** Writes u64 little-endian `v` at `at` in `b`. */
export function writeU64(b: Uint8Array, at: number, v: bigint): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(at, BigInt.asUintN(64, v), true);
}
