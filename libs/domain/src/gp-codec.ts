import { DomainError } from './domain-error';

/**
 * GP 0.7.2 appendix C serialization primitives:
 * - `E_l(x)`: fixed-width little-endian naturals (eq. C.12), used for u16/u32/u64 fields;
 * - `E(x)`: the general natural-number (compact) encoding of x < 2^64 (eq. C.1): one prefix
 *   byte whose leading 1-bits give the count `l` of following little-endian bytes;
 * - `↕x`: a sequence or blob prefixed by its length in the compact encoding (eq. C.8);
 * - discriminators: a compact-encoded variant index followed by the variant's payload.
 *
 * Decoding is strict: truncated input, non-canonical compact integers (a value encoded with
 * more bytes than the GP's encoding uses, which would give two encodings of one value),
 * lengths beyond the remaining input and trailing bytes all throw
 * DomainError('invalid_encoding') with the field path in the message and in `details.path`.
 */

const U64_MAX = (1n << 64n) - 1n;

/** Growable byte writer for GP encodings. */
export class GpWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Fixed-size raw bytes (hashes): no length prefix. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Raw bytes that must be exactly `size` long (a Hash is 32). */
  fixed(b: Uint8Array, size: number, path: string): void {
    if (b.length !== size) throw encodeError(path, `must be ${size} bytes, got ${b.length}`);
    this.bytes(b);
  }

  u8(x: number, path: string): void {
    this.fixedInt(BigInt(checkNumber(x, 0xff, path)), 1);
  }

  u16(x: number, path: string): void {
    this.fixedInt(BigInt(checkNumber(x, 0xffff, path)), 2);
  }

  u32(x: number, path: string): void {
    this.fixedInt(BigInt(checkNumber(x, 0xffff_ffff, path)), 4);
  }

  u64(x: bigint, path: string): void {
    this.fixedInt(checkBigint(x, path), 8);
  }

  /** GP eq. C.1 compact natural, x < 2^64. */
  compact(x: bigint | number, path: string): void {
    const v = typeof x === 'bigint' ? checkBigint(x, path) : BigInt(checkNumber(x, Number.MAX_SAFE_INTEGER, path));
    for (let l = 0; l < 8; l++) {
      if (v < 1n << BigInt(7 * (l + 1))) {
        const prefix = 256 - (1 << (8 - l)) + Number(v >> BigInt(8 * l));
        this.ensure(1);
        this.buf[this.len++] = prefix;
        this.fixedInt(v & ((1n << BigInt(8 * l)) - 1n), l);
        return;
      }
    }
    this.ensure(1);
    this.buf[this.len++] = 0xff;
    this.fixedInt(v, 8);
  }

  /** `↕b`: compact length then the bytes. */
  blob(b: Uint8Array, path: string): void {
    this.compact(b.length, path);
    this.bytes(b);
  }

  /** `↕xs`: compact count then each element. */
  seq<T>(xs: readonly T[], path: string, each: (w: GpWriter, x: T, path: string) => void): void {
    this.compact(xs.length, path);
    xs.forEach((x, i) => each(this, x, `${path}[${i}]`));
  }

  private fixedInt(v: bigint, width: number): void {
    this.ensure(width);
    for (let i = 0; i < width; i++) {
      this.buf[this.len++] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Strict reader over a GP encoding; every read names its field path for errors. */
export class GpReader {
  private pos = 0;

  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.pos;
  }

  private take(n: number, path: string): Uint8Array {
    if (n > this.remaining) throw decodeError(path, `truncated: needs ${n} bytes, ${this.remaining} left`);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private fixedInt(width: number, path: string): bigint {
    const b = this.take(width, path);
    let v = 0n;
    for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /** Fixed-size raw bytes, copied. */
  bytes(n: number, path: string): Uint8Array {
    return this.take(n, path).slice();
  }

  u8(path: string): number {
    return Number(this.fixedInt(1, path));
  }

  u16(path: string): number {
    return Number(this.fixedInt(2, path));
  }

  u32(path: string): number {
    return Number(this.fixedInt(4, path));
  }

  u64(path: string): bigint {
    return this.fixedInt(8, path);
  }

  /** GP eq. C.1 compact natural; rejects non-canonical (over-long) encodings. */
  compact(path: string): bigint {
    const prefix = this.take(1, path)[0]!;
    let l = 0;
    while (l < 8 && (prefix & (0x80 >> l)) !== 0) l++;
    if (l === 8) {
      const v = this.fixedInt(8, path);
      if (v < 1n << 56n) throw decodeError(path, 'non-canonical compact integer');
      return v;
    }
    const high = BigInt(prefix & ((1 << (7 - l)) - 1));
    const v = (high << BigInt(8 * l)) | this.fixedInt(l, path);
    if (l > 0 && v < 1n << BigInt(7 * l)) throw decodeError(path, 'non-canonical compact integer');
    return v;
  }

  /** A compact natural that must be <= `max` (a JS number). */
  compactNumber(max: number, path: string): number {
    const v = this.compact(path);
    if (v > BigInt(max)) throw decodeError(path, `value ${v} exceeds ${max}`);
    return Number(v);
  }

  /** A compact natural that must fit in u64 (always true for valid compact encodings). */
  compactU64(path: string): bigint {
    const v = this.compact(path);
    if (v > U64_MAX) throw decodeError(path, 'value exceeds u64');
    return v;
  }

  /** `↕b`: a length-prefixed blob; the length may not exceed the remaining input. */
  blob(path: string): Uint8Array {
    const n = this.compact(path);
    if (n > BigInt(this.remaining)) throw decodeError(path, `length ${n} exceeds the ${this.remaining} bytes left`);
    return this.bytes(Number(n), path);
  }

  /**
   * `↕xs`: a count-prefixed sequence. `minElementSize` (bytes, >= 1) bounds the count by the
   * remaining input before anything is allocated, so a forged count cannot exhaust memory.
   */
  seq<T>(path: string, minElementSize: number, each: (r: GpReader, path: string) => T): T[] {
    const n = this.compact(path);
    if (n * BigInt(minElementSize) > BigInt(this.remaining)) {
      throw decodeError(path, `count ${n} exceeds what the ${this.remaining} bytes left can hold`);
    }
    const out: T[] = [];
    for (let i = 0; i < Number(n); i++) out.push(each(this, `${path}[${i}]`));
    return out;
  }

  /** Throws when input remains after a complete value. */
  end(path: string): void {
    if (this.remaining !== 0) throw decodeError(path, `${this.remaining} trailing bytes`);
  }
}

/** Decodes a whole buffer with `read`, rejecting trailing bytes. */
export function decodeAll<T>(bytes: Uint8Array, root: string, read: (r: GpReader, path: string) => T): T {
  if (!(bytes instanceof Uint8Array)) throw decodeError(root, 'input must be a Uint8Array');
  const r = new GpReader(bytes);
  const value = read(r, root);
  r.end(root);
  return value;
}

/** Encodes one value with `write`. */
export function encodeWith<T>(value: T, root: string, write: (w: GpWriter, x: T, path: string) => void): Uint8Array {
  const w = new GpWriter();
  write(w, value, root);
  return w.finish();
}

function decodeError(path: string, message: string): DomainError {
  return new DomainError('invalid_encoding', `${path}: ${message}`, { path });
}

/** Encoding a value that does not fit its GP type is a caller bug reported as invalid_encoding. */
function encodeError(path: string, message: string): DomainError {
  return new DomainError('invalid_encoding', `cannot encode ${path}: ${message}`, { path });
}

function checkNumber(x: number, max: number, path: string): number {
  if (!Number.isSafeInteger(x) || x < 0 || x > max) throw encodeError(path, `${String(x)} is not an integer in 0..${max}`);
  return x;
}

function checkBigint(x: bigint, path: string): bigint {
  if (typeof x !== 'bigint' || x < 0n || x > U64_MAX) throw encodeError(path, `${String(x)} is not a u64 bigint`);
  return x;
}
