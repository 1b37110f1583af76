import { serviceModule, T } from '../test/wasm-module.builder';
import { BULK_BYTES_PER_GAS, GAS_GROW_PER_MEMORY_PAGE, GAS_MEMORY_GROW, GAS_PER_PAGE } from './cost-table';
import { HOST_CALLS } from './host-calls/host-call.registry';
import { HOST_FULL, HOST_NONE, HOST_OOB, HOST_WHAT } from './host-abi';
import { meterServiceCode } from './service-code.validator';
import { encodeSLEB } from './wasm-binary.reader';
import { executeAccumulate, executeRefine, type RefineJob } from './service.executor';

const I32_5 = [T.i32, T.i32, T.i32, T.i32, T.i32];
const I32_4 = [T.i32, T.i32, T.i32, T.i32];
/** extra types: 4 = fetch (i32 x5)->i64, 5 = write (i32 x4)->i64, 6 = ()->() */
const EXTRA_TYPES: [number[], number[]][] = [
  [I32_5, [T.i64]],
  [I32_4, [T.i64]],
  [[], []],
  [[T.i32, T.i32, T.i32], [T.i64]],
  [[T.i32, T.i32], [T.i64]],
];

function compile(code: Uint8Array, memoryPagesCap?: number): WebAssembly.Module {
  return new WebAssembly.Module(meterServiceCode(code, { memoryPagesCap }));
}

function job(gasLimit: bigint, payload = new Uint8Array(0)): RefineJob {
  return { itemIndex: 0, payload, gasLimit, preimages: new Map() };
}

function u64le(bytes: Uint8Array): bigint {
  return Buffer.from(bytes).readBigUInt64LE(0);
}

/** refine body storing the i64 left by `call` at address 0 and returning those 8 bytes (or `outLen`). */
function storeResult(call: number[], outLen = 8): number[] {
  return [0x41, 0x00, ...call, 0x37, 0x03, 0x00, 0x42, outLen, 0x0b];
}

describe('executeRefine (metered, in process)', () => {
  it('charges an exact, documented cost for straight-line code', () => {
    // i64.const 0; end -> one block of 2 instructions at 1 gas each
    const out = executeRefine(compile(serviceModule({ refineBody: [0x42, 0x00, 0x0b] })), job(1000n));
    expect(out).toEqual({ result: { ok: new Uint8Array(0) }, gasUsed: 2n, logs: [], exports: [] });
  });

  it('ends an infinite loop with out_of_gas and gasUsed == gasLimit', () => {
    const loop = [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b];
    const out = executeRefine(compile(serviceModule({ refineBody: loop })), job(5_000_000n));
    expect(out.result).toEqual({ out_of_gas: null });
    expect(out.gasUsed).toBe(5_000_000n);
  });

  it('turns a guest trap into panic with deterministic gas', () => {
    const mod = compile(serviceModule({ refineBody: [0x42, 0x01, 0x1a, 0x00, 0x0b] }));
    const a = executeRefine(mod, job(1000n));
    expect(a.result).toEqual({ panic: null });
    // i64.const, drop, unreachable end the first block (3 gas); the trailing `end` never runs
    expect(a.gasUsed).toBe(3n);
    expect(executeRefine(mod, job(1000n))).toEqual(a);
  });

  it('limits call depth deterministically (infinite recursion panics, same gas every run)', () => {
    const code = serviceModule({ refineBody: [0x10, 0x02, 0x42, 0x00, 0x0b], extraTypes: EXTRA_TYPES, extraFuncs: [{ type: 6, body: [0x10, 0x02, 0x0b] }] });
    const mod = compile(code);
    const a = executeRefine(mod, job(10_000_000n));
    expect(a.result).toEqual({ panic: null });
    expect(a.gasUsed).toBeLessThan(10_000_000n);
    expect(executeRefine(mod, job(10_000_000n)).gasUsed).toBe(a.gasUsed);
  });

  it('caps memory.grow at the page cap and charges every requested page', () => {
    // loop { if memory.grow(1) != -1 continue }; return (0 << 32) | memory.size
    const bomb = [0x03, 0x40, 0x41, 0x01, 0x40, 0x00, 0x41, 0x7f, 0x47, 0x0d, 0x00, 0x0b, 0x3f, 0x00, 0xad, 0x0b];
    const out = executeRefine(compile(serviceModule({ refineBody: bomb }), 16), job(1_000_000_000n));
    expect(out.result).toEqual({ ok: new Uint8Array(16) });
    // 15 successful grows + 1 refused, each 1 page, on memories of 1, 2, ... 16 pages (cost table
    // v4: each grow pays its base, its page and 256 per page the memory has); plus a few gas of loop
    const grows = 16n * (GAS_MEMORY_GROW + GAS_PER_PAGE) + ((16n * 17n) / 2n) * GAS_GROW_PER_MEMORY_PAGE;
    expect(out.gasUsed).toBeGreaterThan(grows);
    expect(out.gasUsed).toBeLessThan(grows + 200n);
    // a single huge grow runs out of gas before it allocates anything
    const huge = [0x41, 0x80, 0x80, 0x04, 0x40, 0x00, 0x1a, 0x42, 0x00, 0x0b];
    expect(executeRefine(compile(serviceModule({ refineBody: huge })), job(1_000_000n)).result).toEqual({ out_of_gas: null });
  });

  it('charges memory.fill per 4 bytes (cost table v4)', () => {
    const fill = (n: number[]) => [0x41, 0x00, 0x41, 0x61, 0x41, ...n, 0xfc, 0x0b, 0x00, 0x42, 0x00, 0x0b];
    const big = executeRefine(compile(serviceModule({ refineBody: fill([0x80, 0x80, 0x04]) })), job(1_000_000n));
    const none = executeRefine(compile(serviceModule({ refineBody: fill([0x00]) })), job(1_000_000n));
    expect(big.gasUsed - none.gasUsed).toBe(65536n / BigInt(BULK_BYTES_PER_GAS));
    expect(BULK_BYTES_PER_GAS).toBe(4);
  });

  it('maps oversize and out-of-memory outputs', () => {
    // (0 << 32) | 49153 bytes: one over W_R
    const over = [0x42, 0x81, 0x80, 0x03, 0x0b];
    expect(executeRefine(compile(serviceModule({ refineBody: over })), job(1000n)).result).toEqual({ oversize: null });
    // (65536 << 32) | 8: past the 1-page memory
    const outside = [0x42, ...encodeSLEB((65536n << 32n) | 8n), 0x0b];
    expect(executeRefine(compile(serviceModule({ refineBody: outside })), job(1000n)).result).toEqual({ panic: null });
  });

  describe('host functions', () => {
    const fetchImport = [{ module: 'jam', name: 'fetch', type: 4 }];
    const writeImport = [{ module: 'jam', name: 'write', type: 5 }];
    const gasImport = [{ module: 'jam', name: 'gas', type: 2 }];

    it('fetch copies a window of the payload and returns its full length', () => {
      // fetch(0, 0, out=16, offset=2, max=3) -> 8 stored at 0; output bytes 0..24
      const call = [0x41, 0x00, 0x41, 0x00, 0x41, 0x10, 0x41, 0x02, 0x41, 0x03, 0x10, 0x00];
      const out = executeRefine(
        compile(serviceModule({ imports: fetchImport, extraTypes: EXTRA_TYPES, refineBody: storeResult(call, 24) })),
        job(10_000n, new TextEncoder().encode('abcdefgh')),
      );
      expect('ok' in out.result).toBe(true);
      const bytes = (out.result as { ok: Uint8Array }).ok;
      expect(u64le(bytes)).toBe(8n);
      expect(Buffer.from(bytes.subarray(16, 19)).toString()).toBe('cde');
    });

    it('fetch returns OOB when the out range leaves memory', () => {
      // out = 65530, max 100 of a 10-byte payload
      const call = [0x41, 0x00, 0x41, 0x00, 0x41, 0xfa, 0xff, 0x03, 0x41, 0x00, 0x41, 0xe4, 0x00, 0x10, 0x00];
      const out = executeRefine(
        compile(serviceModule({ imports: fetchImport, extraTypes: EXTRA_TYPES, refineBody: storeResult(call) })),
        job(10_000n, new Uint8Array(10)),
      );
      expect(u64le((out.result as { ok: Uint8Array }).ok)).toBe(HOST_OOB);
    });

    it('lookup finds a preimage by hash and returns NONE when absent', () => {
      // lookup(hash_ptr=64 (32 zero bytes), out=16, offset=0, max=3)
      const call = [0x41, 0xc0, 0x00, 0x41, 0x10, 0x41, 0x00, 0x41, 0x03, 0x10, 0x00];
      const mod = compile(serviceModule({ imports: [{ module: 'jam', name: 'lookup', type: 5 }], extraTypes: EXTRA_TYPES, refineBody: storeResult(call, 24) }));
      const preimages = new Map([['0x' + '00'.repeat(32), new TextEncoder().encode('xyz')]]);
      const found = (executeRefine(mod, { ...job(10_000n), preimages }).result as { ok: Uint8Array }).ok;
      expect(u64le(found)).toBe(3n);
      expect(Buffer.from(found.subarray(16, 19)).toString()).toBe('xyz');
      expect(u64le((executeRefine(mod, job(10_000n)).result as { ok: Uint8Array }).ok)).toBe(HOST_NONE);
    });

    it('log captures sanitized lines', () => {
      // store "a\nb" at 0, then log(3, 0, 3)
      const body = [0x41, 0x00, 0x41, ...encodeSLEB(0x00620a61n), 0x36, 0x02, 0x00, 0x41, 0x03, 0x41, 0x00, 0x41, 0x03, 0x10, 0x00, 0x1a, 0x42, 0x00, 0x0b];
      const out = executeRefine(
        compile(serviceModule({ imports: [{ module: 'jam', name: 'log', type: 7 }], extraTypes: EXTRA_TYPES, refineBody: body })),
        job(10_000n),
      );
      expect(out.logs).toEqual(['[3] a\\u000ab']);
    });

    it('write is accumulate-only: WHAT in refine', () => {
      const call = [0x41, 0x00, 0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x10, 0x00];
      const out = executeRefine(compile(serviceModule({ imports: writeImport, extraTypes: EXTRA_TYPES, refineBody: storeResult(call) })), job(10_000n));
      expect(u64le((out.result as { ok: Uint8Array }).ok)).toBe(HOST_WHAT);
    });

    it('gas() reports the remaining gas after its own fixed charge', () => {
      const out = executeRefine(compile(serviceModule({ imports: gasImport, extraTypes: EXTRA_TYPES, refineBody: storeResult([0x10, 0x00]) })), job(10_000n));
      const remaining = u64le((out.result as { ok: Uint8Array }).ok);
      expect(remaining).toBeLessThan(10_000n - HOST_CALLS.gas.price.base);
      expect(out.gasUsed).toBeGreaterThan(10_000n - remaining);
    });

    describe('export and imported segments (engine 0.7.0)', () => {
      const exportImport = [{ module: 'jam', name: 'export', type: 8 }];
      // memory[0..4] = "ab\0\0"; export(0, 2) and drop; memory[8..16] = export(0, 2); return 16 bytes
      const body = [
        ...[0x41, 0x00, 0x41, ...encodeSLEB(0x6261n), 0x36, 0x02, 0x00],
        ...[0x41, 0x00, 0x41, 0x02, 0x10, 0x00, 0x1a],
        ...[0x41, 0x08, 0x41, 0x00, 0x41, 0x02, 0x10, 0x00, 0x37, 0x03, 0x00],
        ...[0x42, 0x10, 0x0b],
      ];
      const mod = () => compile(serviceModule({ imports: exportImport, extraTypes: EXTRA_TYPES, refineBody: body }));

      it('export appends zero-padded 4104-byte segments and returns their index in the package', () => {
        const out = executeRefine(mod(), { ...job(100_000n), exportOffset: 5 });
        expect(out.exports).toHaveLength(2);
        const expected = new Uint8Array(4104);
        expected.set([0x61, 0x62]);
        for (const seg of out.exports!) expect(Buffer.from(seg).equals(Buffer.from(expected))).toBe(true);
        expect(u64le((out.result as { ok: Uint8Array }).ok.subarray(8))).toBe(6n);
      });

      it('export answers FULL past 3072 segments in the package (GP W_X), exporting nothing', () => {
        const out = executeRefine(mod(), { ...job(100_000n), exportOffset: 3071 });
        expect(out.exports).toHaveLength(1);
        expect(u64le((out.result as { ok: Uint8Array }).ok.subarray(8))).toBe(HOST_FULL);
      });

      it("fetch kind 3 copies the item's imported segment; NONE past the imports", () => {
        // fetch(3, 0, out=16, offset=0, max=3)
        const call = [0x41, 0x03, 0x41, 0x00, 0x41, 0x10, 0x41, 0x00, 0x41, 0x03, 0x10, 0x00];
        const m = compile(serviceModule({ imports: fetchImport, extraTypes: EXTRA_TYPES, refineBody: storeResult(call, 24) }));
        const segment = new Uint8Array(4104);
        segment.set(new TextEncoder().encode('xyz'));
        const found = (executeRefine(m, { ...job(10_000n), imports: [segment] }).result as { ok: Uint8Array }).ok;
        expect(u64le(found)).toBe(4104n);
        expect(Buffer.from(found.subarray(16, 19)).toString()).toBe('xyz');
        expect(u64le((executeRefine(m, job(10_000n)).result as { ok: Uint8Array }).ok)).toBe(HOST_NONE);
      });
    });

    it('a host call without enough gas ends out_of_gas', () => {
      const out = executeRefine(compile(serviceModule({ imports: gasImport, extraTypes: EXTRA_TYPES, refineBody: storeResult([0x10, 0x00]) })), job(50n));
      expect(out).toEqual({ result: { out_of_gas: null }, gasUsed: 50n, logs: [], trap: expect.objectContaining({ kind: 'out_of_gas' }), exports: [] });
    });
  });
});

describe('executeAccumulate (metered, in process)', () => {
  // imports: 0 = read (type 4), 1 = write (type 5)
  const imports = [
    { module: 'jam', name: 'read', type: 4 },
    { module: 'jam', name: 'write', type: 5 },
  ];
  const body = [
    0x41,
    0x00,
    0x41,
    0xeb,
    0x00,
    0x3a,
    0x00,
    0x00, // [0] = 'k'
    0x41,
    0x01,
    0x41,
    0xf2,
    0x00,
    0x3a,
    0x00,
    0x00, // [1] = 'r'
    0x41,
    0x10,
    0x41,
    0x00,
    0x41,
    0x01,
    0x41,
    0x08,
    0x41,
    0x04,
    0x10,
    0x01,
    0x37,
    0x03,
    0x00, // [16] = write(k, 4 bytes at 8)
    0x41,
    0x18,
    0x41,
    0x00,
    0x41,
    0x01,
    0x41,
    0x28,
    0x41,
    0x00,
    0x41,
    0x08,
    0x10,
    0x00,
    0x37,
    0x03,
    0x00, // [24] = read(k -> 40)
    0x41,
    0x20,
    0x41,
    0x00,
    0x41,
    0x01,
    0x41,
    0x00,
    0x41,
    0x00,
    0x10,
    0x01,
    0x37,
    0x03,
    0x00, // [32] = write(k, len 0): delete
    0x41,
    0x01,
    0x41,
    0x01,
    0x41,
    0x10,
    0x41,
    0x18,
    0x10,
    0x01,
    0x1a, // write(r, [16..40))
    0x42,
    0x00,
    0x0b,
  ];
  const run = (accumulateBody: number[], storage = new Map<string, Uint8Array>()) =>
    executeAccumulate(compile(serviceModule({ refineBody: [0x42, 0x00, 0x0b], accumulateBody, imports, extraTypes: EXTRA_TYPES })), {
      gasLimit: 100_000n,
      operands: [],
      storage,
      storageQuota: { maxBytes: 1024, maxItems: 16 },
    });

  it('sees its own writes, returns previous lengths, and reports the final value per key', () => {
    const out = run(body, new Map([['0x6b', new Uint8Array([9, 9])]]));
    expect(out.status).toBe('ok');
    const results = Buffer.concat(
      [2n, 4n, 4n].map((n) => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(n);
        return b;
      }),
    );
    expect(out.writes).toEqual([
      { key: new Uint8Array([0x6b]), value: null },
      { key: new Uint8Array([0x72]), value: new Uint8Array(results) },
    ]);
  });

  it('treats a non-zero return as panic and discards writes', () => {
    const out = run([...body.slice(0, -3), 0x42, 0x01, 0x0b]);
    expect(out).toEqual({
      status: 'panic',
      gasUsed: out.gasUsed,
      writes: [],
      logs: [],
      trap: { kind: 'nonzero_return', message: 'accumulate returned 1 (only 0 is ok)', frames: [] },
    });
  });
});
