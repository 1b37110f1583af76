import { DomainError, type DomainErrorCode } from './domain-error';
import { fromHex } from './hex';
import type { Hash } from './work-types';

/**
 * Strict field readers for the vectors' JSON form, shared by the `xFromJson` functions.
 * Each failure throws DomainError(code, '<path>: <problem>', {path}); `code` is
 * 'invalid_package' for work-package shapes (what the gateway accepts) and 'invalid_json'
 * otherwise. Paths are relative to the value passed in, e.g. `items[0].refine_gas_limit`.
 */

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** JSON form of a u64: a number when <= Number.MAX_SAFE_INTEGER, else a bigint. */
export type U64Json = number | bigint;

/** A `0x`-prefixed lowercase hex string. */
export type HexJson = string;

export class JsonReader {
  constructor(readonly code: DomainErrorCode) {}

  fail(path: string, message: string): never {
    const where = path === '' ? 'value' : path;
    throw new DomainError(this.code, `${where}: ${message}`, { path: where });
  }

  /** A plain object with exactly `keys` (no missing, no unknown keys). */
  object<K extends string>(v: unknown, path: string, keys: readonly K[]): Record<K, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!(keys as readonly string[]).includes(k)) this.fail(join(path, k), 'unknown key');
    }
    for (const k of keys) {
      if (!Object.prototype.hasOwnProperty.call(rec, k)) this.fail(join(path, k), 'missing');
    }
    return rec as Record<K, unknown>;
  }

  array<T>(v: unknown, path: string, each: (x: unknown, path: string) => T): T[] {
    if (!Array.isArray(v)) this.fail(path, 'must be an array');
    return v.map((x: unknown, i: number) => each(x, `${path}[${i}]`));
  }

  bytes(v: unknown, path: string, length?: number): Uint8Array {
    if (typeof v !== 'string') this.fail(path, 'must be a 0x-prefixed hex string');
    try {
      return fromHex(v, length);
    } catch (err: unknown) {
      return this.fail(path, err instanceof Error ? err.message : String(err));
    }
  }

  hash(v: unknown, path: string): Hash {
    return this.bytes(v, path, 32);
  }

  /** An integer in 0..max given as a JS number (or a bigint within range). */
  uint(v: unknown, path: string, max: number, name: string): number {
    if (typeof v === 'bigint' && v >= 0n && v <= BigInt(max)) return Number(v);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) this.fail(path, `must be a ${name} integer (0..${max})`);
    return v;
  }

  u16(v: unknown, path: string): number {
    return this.uint(v, path, 0xffff, 'u16');
  }

  u32(v: unknown, path: string): number {
    return this.uint(v, path, 0xffff_ffff, 'u32');
  }

  /** A u64 as a safe-integer number, a bigint or a decimal string. */
  u64(v: unknown, path: string): bigint {
    let b: bigint | undefined;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
    else if (typeof v === 'string' && DECIMAL.test(v)) b = BigInt(v);
    if (b === undefined) {
      this.fail(path, 'must be a u64: a JSON integer from 0 to 2^64 - 1, or the same as a decimal string');
    }
    if (b < 0n || b > U64_MAX) this.fail(path, 'must be a u64 integer (0..2^64-1)');
    return b;
  }
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A u64 in its JSON form: a number when it is a safe integer, else a bigint. */
export function u64ToJson(x: bigint): U64Json {
  return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}
