/**
 * A minimal, test-only decoder of a GP 0.7.2 WorkReport, written from the Gray Paper's appendix C
 * (eq. C.1 compact naturals, C.23-C.26 work report) and not from the product's codec
 * (libs/domain), so that a report the API serves is checked by a second implementation. It reads
 * only what the end-to-end tests look at, but walks every field so that the byte count must come
 * out exact.
 */

export interface IndependentWorkReport {
  packageHash: Buffer;
  packageLength: number;
  erasureRoot: Buffer;
  exportsRoot: Buffer;
  exportsCount: number;
  coreIndex: bigint;
  authorizerHash: Buffer;
  authGasUsed: bigint;
  authOutput: Buffer;
  segmentRootLookup: { packageHash: Buffer; segmentTreeRoot: Buffer }[];
  results: {
    serviceId: number;
    codeHash: Buffer;
    payloadHash: Buffer;
    accumulateGas: bigint;
    /** 0 ok, 1 out_of_gas, 2 panic, 3 bad_exports, 4 oversize, 5 bad_code, 6 code_oversize */
    resultCode: number;
    output: Buffer | null;
    gasUsed: bigint;
    imports: bigint;
    extrinsicCount: bigint;
    extrinsicSize: bigint;
    exports: bigint;
  }[];
}

class Reader {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  take(n: number): Buffer {
    if (this.at + n > this.b.length) throw new Error(`truncated at ${this.at} (+${n} of ${this.b.length})`);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  fixedLe(n: number): bigint {
    const bytes = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    return v;
  }
  /** GP eq. C.1: l leading one bits in the first byte, then l little-endian bytes (8 when the byte is 0xff). */
  compact(): bigint {
    const first = this.take(1)[0]!;
    let l = 0;
    while (l < 8 && (first & (0x80 >> l)) !== 0) l++;
    if (l === 8) return this.fixedLe(8);
    const high = BigInt(first & (0xff >> (l + 1)));
    return (high << BigInt(8 * l)) + this.fixedLe(l);
  }
  blob(): Buffer {
    return this.take(Number(this.compact()));
  }
  done(): boolean {
    return this.at === this.b.length;
  }
}

/** @throws Error on truncation or trailing bytes */
export function readWorkReport(bytes: Buffer): IndependentWorkReport {
  const r = new Reader(bytes);
  const packageHash = r.take(32);
  const packageLength = Number(r.fixedLe(4));
  const erasureRoot = r.take(32);
  const exportsRoot = r.take(32);
  const exportsCount = Number(r.fixedLe(2));
  // refine context: anchor, state root, beefy root, lookup anchor, E_4 slot, prerequisites
  r.take(32 * 4);
  r.fixedLe(4);
  const prerequisites = Number(r.compact());
  r.take(32 * prerequisites);
  const coreIndex = r.compact();
  const authorizerHash = r.take(32);
  const authGasUsed = r.compact();
  const authOutput = r.blob();
  const lookups = Number(r.compact());
  const segmentRootLookup = Array.from({ length: lookups }, () => ({ packageHash: r.take(32), segmentTreeRoot: r.take(32) }));
  const count = Number(r.compact());
  const results: IndependentWorkReport['results'] = [];
  for (let i = 0; i < count; i++) {
    const serviceId = Number(r.fixedLe(4));
    const codeHash = r.take(32);
    const payloadHash = r.take(32);
    const accumulateGas = r.fixedLe(8);
    const resultCode = Number(r.compact());
    const output = resultCode === 0 ? r.blob() : null;
    results.push({
      serviceId,
      codeHash,
      payloadHash,
      accumulateGas,
      resultCode,
      output,
      gasUsed: r.compact(),
      imports: r.compact(),
      extrinsicCount: r.compact(),
      extrinsicSize: r.compact(),
      exports: r.compact(),
    });
  }
  if (!r.done()) throw new Error('trailing bytes after the work report');
  return { packageHash, packageLength, erasureRoot, exportsRoot, exportsCount, coreIndex, authorizerHash, authGasUsed, authOutput, segmentRootLookup, results };
}
