/**
 * `productWriteLimit`: the Wasm `write` rules the product applies to every GP accumulate `write`
 * (docs/service-abi.md, "GP accumulate state"): key length, the 1 MiB value limit, the write-set
 * caps and the storage quota. The quota through a real guest and PostgreSQL is in
 * test/accumulate/gp-accumulate-tenancy.integration.spec.ts.
 */
import { HOST_FULL, HOST_WHAT, MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES, MAX_WRITE_SET_KEYS } from '../../host-abi';
import { productWriteLimit } from './gp-accumulate-job';

const BIG = { maxBytes: 1 << 30, maxItems: 1 << 20 };
const key = (i: number) => Uint8Array.of(i >> 8, i & 0xff);

describe('productWriteLimit', () => {
  it('answers WHAT for a key over MAX_STORAGE_KEY_BYTES and FULL for a value over MAX_STORAGE_VALUE_BYTES', () => {
    const limit = productWriteLimit(new Map(), BIG);
    expect(limit(new Uint8Array(MAX_STORAGE_KEY_BYTES + 1), Uint8Array.of(1))).toBe(HOST_WHAT);
    expect(limit(key(1), new Uint8Array(MAX_STORAGE_VALUE_BYTES + 1))).toBe(HOST_FULL);
    expect(limit(key(1), new Uint8Array(MAX_STORAGE_VALUE_BYTES))).toBeNull();
  });

  it('answers FULL for a new key past MAX_WRITE_SET_KEYS, while rewriting a key already in the write-set passes', () => {
    const limit = productWriteLimit(new Map(), BIG);
    for (let i = 0; i < MAX_WRITE_SET_KEYS; i++) expect(limit(key(i), Uint8Array.of(1))).toBeNull();
    expect(limit(key(MAX_WRITE_SET_KEYS), Uint8Array.of(1))).toBe(HOST_FULL);
    expect(limit(key(0), Uint8Array.of(2))).toBeNull();
  });

  it('answers FULL for a write that grows the footprint past the quota, and lets a shrinking write through', () => {
    // stored: one item of 2 + 10 bytes; quota 20 bytes
    const limit = productWriteLimit(new Map([['0001', new Uint8Array(10)]]), { maxBytes: 20, maxItems: 10 });
    expect(limit(key(2), new Uint8Array(7))).toBe(HOST_FULL);
    expect(limit(key(2), new Uint8Array(6))).toBeNull();
    expect(limit(key(3), Uint8Array.of(1))).toBe(HOST_FULL);
    expect(limit(key(1), new Uint8Array(0))).toBeNull();
    expect(limit(key(3), Uint8Array.of(1))).toBeNull();
  });
});
