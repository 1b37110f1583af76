/**
 * Decoding and validation of PVM programs (GP 0.7.2 appendix A): the generic program blob
 * (`deblob`, A.2), the standard program (A.7, `Y`) and the JAM service blob (E(↕m) ++ standard
 * program: code with its metadata prefix, as `jam-pvm-build`/polkatool emit it). Pure functions
 * over bytes; no interpreter. Errors are `PvmProgramRejection` with a stable reason.
 */

/** GP `Z_P`: PVM page size (bytes). */
export const PVM_PAGE_SIZE = 1 << 12;
/** GP `Z_Z`: PVM memory zone size (bytes). */
export const PVM_ZONE_SIZE = 1 << 16;
/** GP `Z_I`: size of the standard program's argument zone (bytes). */
export const PVM_INPUT_SIZE = 1 << 24;
/** Entry point of `refine` in a service blob (GP 0.7.2 appendix B: Ψ_M(c, 0, ...)). */
export const PVM_REFINE_ENTRY = 0;
/** Entry point of `accumulate` in a service blob (GP 0.7.2 appendix B: Ψ_M(c, 5, ...)). */
export const PVM_ACCUMULATE_ENTRY = 5;

/** A program the decoder refuses; `reason` is stable text (docs/service-abi.md, "PVM services"). */
export class PvmProgramRejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A decoded generic program blob (GP A.2): p = E(|j|) ++ E1(z) ++ E(|c|) ++ E_z(j) ++ E(c) ++ E(k). */
export interface PvmCodeBlob {
  /** Jump table entries (code offsets). */
  jumpTable: number[];
  /** Instruction bytes. */
  code: Uint8Array;
  /** `k`: one flag per code byte, 1 where an instruction starts. */
  starts: Uint8Array;
}

/** A decoded standard program (GP 0.7.2 A.7). Sizes in bytes. */
export interface PvmStandardProgram {
  /** `o`: read-only data. */
  readOnlyData: Uint8Array;
  /** `w`: read-write data (heap start). */
  readWriteData: Uint8Array;
  /** `z`: extra heap pages (of Z_P bytes) after `w`. */
  heapPages: number;
  /** `s`: stack size (bytes). */
  stackSize: number;
  /** The code blob, decoded. */
  blob: PvmCodeBlob;
}

/** A decoded JAM service blob: metadata (opaque bytes) and its standard program. */
export interface PvmServiceBlob {
  metadata: Uint8Array;
  program: PvmStandardProgram;
}

class Reader {
  private at = 0;
  constructor(private readonly b: Uint8Array) {}

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.b.length - this.at;
  }

  bytes(n: number, what: string): Uint8Array {
    if (n > this.remaining) throw new PvmProgramRejection(`${what}: ${n} bytes needed, ${this.remaining} left`);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Fixed-width little-endian unsigned integer (GP E_l), l <= 4. */
  fixed(l: number, what: string): number {
    const b = this.bytes(l, what);
    let v = 0;
    for (let i = l - 1; i >= 0; i--) v = v * 256 + b[i]!;
    return v;
  }

  /** GP eq. C.1 compact natural, accepted only up to 2^32 - 1 (every PVM length is 32-bit). */
  compact(what: string): number {
    const first = this.fixed(1, what);
    let l = 0;
    while (l < 8 && first & (0x80 >> l)) l++;
    if (l === 8) {
      const v = this.fixed(4, what) + this.fixed(4, what) * 2 ** 32;
      if (v > 0xffffffff) throw new PvmProgramRejection(`${what}: ${v} is over 2^32 - 1`);
      return v;
    }
    const low = l === 0 ? 0 : this.fixed(l, what);
    const high = first & (0xff >> (l + 1));
    const v = low + high * 2 ** (8 * l);
    if (v > 0xffffffff) throw new PvmProgramRejection(`${what}: ${v} is over 2^32 - 1`);
    return v;
  }
}

/**
 * Decodes a generic program blob (GP 0.7.2 A.2 `deblob`) and checks it: the jump table's item
 * size is at most 4, the code is not empty, the bitmask has |c| bits (padding bits zero) and marks
 * an instruction at offset 0, and every jump table entry is an instruction start inside the code.
 * @throws PvmProgramRejection
 */
export function decodeCodeBlob(bytes: Uint8Array): PvmCodeBlob {
  const r = new Reader(bytes);
  const jumpCount = r.compact('jump table length');
  const itemSize = r.fixed(1, 'jump table item size');
  const codeLength = r.compact('code length');
  if (itemSize > 4) throw new PvmProgramRejection(`jump table item size ${itemSize} is over 4`);
  if (jumpCount > 0 && itemSize === 0) throw new PvmProgramRejection('jump table has entries of size 0');
  if (codeLength === 0) throw new PvmProgramRejection('code is empty');
  if (jumpCount * itemSize > r.remaining) throw new PvmProgramRejection(`jump table: ${jumpCount * itemSize} bytes needed, ${r.remaining} left`);
  const jumpTable: number[] = [];
  for (let i = 0; i < jumpCount; i++) jumpTable.push(r.fixed(itemSize, 'jump table entry'));
  const code = r.bytes(codeLength, 'code');
  const maskBytes = r.bytes(Math.ceil(codeLength / 8), 'bitmask');
  if (r.remaining !== 0) throw new PvmProgramRejection(`${r.remaining} bytes after the bitmask`);
  const starts = new Uint8Array(codeLength);
  for (let i = 0; i < codeLength; i++) starts[i] = (maskBytes[i >> 3]! >> (i & 7)) & 1;
  const last = maskBytes[maskBytes.length - 1]!;
  if (codeLength % 8 !== 0 && last >> (codeLength % 8) !== 0) throw new PvmProgramRejection('bitmask padding bits are not zero');
  if (starts[0] !== 1) throw new PvmProgramRejection('no instruction starts at offset 0');
  jumpTable.forEach((target, i) => {
    if (target >= codeLength || starts[target] !== 1)
      throw new PvmProgramRejection(`jump table entry ${i} (${target}) is not an instruction start in the code`);
  });
  return { jumpTable, code, starts };
}

/** GP `Z(x)`: x rounded up to a multiple of Z_Z. */
function zone(x: number): number {
  return Math.ceil(x / PVM_ZONE_SIZE) * PVM_ZONE_SIZE;
}

/**
 * Decodes a standard program (GP 0.7.2 A.7): E3(|o|) ++ E3(|w|) ++ E2(z) ++ E3(s) ++ o ++ w ++
 * E4(|c|) ++ c, and checks its memory layout fits the 32-bit address space:
 * 5·Z_Z + Z(|o|) + Z(|w| + z·Z_P) + Z(s) + Z_I <= 2^32 (GP 0.7.2 A.7, the standard program initialisation;
 * with 3- and 2-byte size fields and code under GP W_C it always holds: kept as the GP states it), then the code blob.
 * @throws PvmProgramRejection
 */
export function decodeStandardProgram(bytes: Uint8Array): PvmStandardProgram {
  const r = new Reader(bytes);
  const roLength = r.fixed(3, 'read-only data length');
  const rwLength = r.fixed(3, 'read-write data length');
  const heapPages = r.fixed(2, 'heap pages');
  const stackSize = r.fixed(3, 'stack size');
  const readOnlyData = r.bytes(roLength, 'read-only data');
  const readWriteData = r.bytes(rwLength, 'read-write data');
  const codeLength = r.fixed(4, 'code blob length');
  const code = r.bytes(codeLength, 'code blob');
  if (r.remaining !== 0) throw new PvmProgramRejection(`${r.remaining} bytes after the code blob`);
  const layout = 5 * PVM_ZONE_SIZE + zone(roLength) + zone(rwLength + heapPages * PVM_PAGE_SIZE) + zone(stackSize) + PVM_INPUT_SIZE;
  if (layout > 2 ** 32) throw new PvmProgramRejection(`memory layout needs ${layout} bytes, over 2^32 (GP 0.7.2 A.7)`);
  return { readOnlyData, readWriteData, heapPages, stackSize, blob: decodeCodeBlob(code) };
}

/**
 * Decodes a JAM service blob: E(↕m) ++ standard program (GP 0.7.2 section 9.1, the code with its
 * metadata prefix). The metadata is opaque (polkatool writes name, version, license, authors).
 * @throws PvmProgramRejection
 */
export function decodeServiceBlob(bytes: Uint8Array): PvmServiceBlob {
  const r = new Reader(bytes);
  const metadataLength = r.compact('metadata length');
  const metadata = r.bytes(metadataLength, 'metadata');
  return { metadata, program: decodeStandardProgram(bytes.subarray(r.offset)) };
}
