/**
 * Minimal WebAssembly binary reader and writer helpers (LEB128, vectors) for the validator and the
 * gas instrumenter. Throws `WasmFormatError` on truncated or over-long encodings.
 */

/** Thrown when bytes are not a well-formed WebAssembly encoding. */
export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmFormatError';
  }
}

/** A cursor over a byte array. All offsets are byte offsets into `bytes`. */
export class WasmBinaryReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new WasmFormatError('unexpected end of data');
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new WasmFormatError('u32 out of range');
        return result;
      }
      shift += 7;
    }
    throw new WasmFormatError('u32 LEB128 too long');
  }

  /** Signed LEB128 of at most `bits` bits; returned as bigint. */
  sleb(bits: 32 | 33 | 64): bigint {
    let result = 0n;
    let shift = 0n;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (shift < 64n && (b & 0x40) !== 0) result -= 1n << shift;
        return BigInt.asIntN(bits, result);
      }
    }
    throw new WasmFormatError(`s${bits} LEB128 too long`);
  }

  bytesN(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new WasmFormatError('unexpected end of data');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(): string {
    const len = this.u32();
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytesN(len));
  }
}

/** Unsigned LEB128 encoding of a non-negative integer < 2^32. */
export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 encoding of a bigint (any width up to 64 bits). */
export function encodeSLEB(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

/** A growable byte buffer for writing modules (avoids spreading large arrays). */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(data: ArrayLike<number>): this {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
    return this;
  }

  u32(v: number): this {
    return this.bytes(encodeU32(v));
  }

  /** Writes `id`, then the size and contents of `payload`. */
  section(id: number, payload: ByteWriter | Uint8Array): this {
    const data = payload instanceof ByteWriter ? payload.toBytes() : payload;
    return this.byte(id).u32(data.length).bytes(data);
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
