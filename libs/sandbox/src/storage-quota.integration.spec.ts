/**
 * The storage footprint quota (docs/service-abi.md, "Storage footprint quota"): `write` answers
 * FULL, and changes nothing, when it would grow the service's footprint (the stored snapshot
 * overlaid with the job's writes: key + value bytes, and keys) and leave it over the job's
 * `storageQuota`. In process first (the script guest of the write-set cap spec), then through
 * SandboxPool (needs the build: the pool forks dist/libs/sandbox/src/executor.process.js).
 */
import { blake2b256, initHashing, toHex } from '@jam/domain';
import { HOST_FULL, HOST_NONE, MAX_STORAGE_SNAPSHOT_BYTES, MAX_STORAGE_SNAPSHOT_ITEMS, MAX_STORAGE_VALUE_BYTES } from './host-abi';
import { SandboxPool } from './sandbox.pool';
import type { AccumulateOutcome, StorageQuota } from './sandbox.types';
import { footprintOf } from './storage-footprint';
import { wat2wasm } from '../../../test/sandbox/sandbox-test.helpers';
import { R_KEY, SCRIPT_GUEST, isVals, keyOf, rBytes, runScript, script, scriptGuestModule, type Cmd } from '../test/write-script.guest';

let mod: WebAssembly.Module;
beforeAll(async () => {
  mod = await scriptGuestModule();
});

const BIG = Number.MAX_SAFE_INTEGER;
const hexKey = (id: number, len: number) => toHex(keyOf(id, len));
const vals = (n: number) => new Uint8Array(n).fill(0xab);

/** The storage after the job: snapshot overlaid with the outcome's writes. */
function after(storage: Map<string, Uint8Array>, out: AccumulateOutcome): Map<string, Uint8Array> {
  const next = new Map(storage);
  for (const w of out.writes) {
    if (w.value === null) next.delete(toHex(w.key));
    else next.set(toHex(w.key), w.value);
  }
  return next;
}

/** A snapshot already holding the result key "r" with room for `n` results, so the guest's writes of "r" never grow the footprint. */
const withR = (n: number, entries: [string, Uint8Array][] = []) => new Map<string, Uint8Array>([[toHex(R_KEY), new Uint8Array(8 * n)], ...entries]);

describe('storage footprint quota (executeAccumulate, in process)', () => {
  it('answers FULL exactly past maxBytes; the snapshot, overwrites and the result key all count', () => {
    // snapshot: key 9 (1 byte) with 100 bytes; the guest adds "r" (1 + 8*5 bytes) and key 1 with A bytes
    const A = 1000;
    const snapshot = new Map([[hexKey(9, 1), vals(100)]]);
    const cmds = (valLen: number): Cmd[] => [
      { id: 1, keyLen: 1, valLen }, // new key
      { id: 2, keyLen: 1, valLen: 1 }, // one more byte of anything: FULL when at the cap
      { id: 1, keyLen: 1, valLen: valLen + 1 }, // growing overwrite: FULL when at the cap
      { id: 1, keyLen: 1, valLen }, // same-size overwrite: always fits
      { id: 9, keyLen: 1, valLen: 100 }, // same-size overwrite of a snapshot key: returns its stored length
    ];
    const quota = { maxBytes: 101 + rBytes(5) + 1 + A, maxItems: BIG };

    const atCap = runScript(mod, cmds(A), snapshot, quota);
    expect(atCap.results).toEqual([HOST_NONE, HOST_FULL, HOST_FULL, BigInt(A), 100n]);
    expect(footprintOf(after(snapshot, atCap.out))).toEqual({ bytes: quota.maxBytes, items: 3 });
    expect(isVals(atCap.byKey.get(hexKey(1, 1)), A)).toBe(true);
    expect(atCap.byKey.has(hexKey(2, 1))).toBe(false);

    // one byte more: key 1 is refused and absent, and so is every later write that grows
    const over = runScript(mod, cmds(A + 1), snapshot, quota);
    expect(over.results).toEqual([HOST_FULL, HOST_NONE, HOST_FULL, HOST_FULL, 100n]);
    expect(over.byKey.has(hexKey(1, 1))).toBe(false);
    expect(isVals(over.byKey.get(hexKey(2, 1)), 1)).toBe(true);
    // a refused write is charged like the write it refused (the copy is skipped): same gas either way
    expect(over.out.gasUsed).toBe(runScript(mod, cmds(A + 1), snapshot, { maxBytes: BIG, maxItems: BIG }).out.gasUsed);
  });

  it('answers FULL exactly past maxItems; deleting a key frees its slot', () => {
    // "r" is one item, the snapshot two: 4 + 3 new keys fill maxItems = 10
    const snapshot = new Map([
      [hexKey(100, 2), vals(1)],
      [hexKey(101, 2), vals(1)],
    ]);
    const fill = Array.from({ length: 7 }, (_, i) => ({ id: i, keyLen: 2, valLen: 1 }));
    const cmds: Cmd[] = [
      ...fill,
      { id: 7, keyLen: 2, valLen: 1 }, // the 11th item: FULL
      { id: 7, keyLen: 2, valLen: 0 }, // deleting an absent key changes nothing: fits, NONE
      { id: 0, keyLen: 2, valLen: 50 }, // overwrite keeps the item count: fits
      { id: 100, keyLen: 2, valLen: 0 }, // deleting a snapshot key frees an item: fits, returns its length
      { id: 7, keyLen: 2, valLen: 1 }, // now fits
      { id: 8, keyLen: 2, valLen: 1 }, // FULL again
    ];
    const quota = { maxBytes: BIG, maxItems: 10 };
    const { out, results, byKey } = runScript(mod, cmds, snapshot, quota);
    expect(results).toEqual([...fill.map(() => HOST_NONE), HOST_FULL, HOST_NONE, 1n, 1n, HOST_NONE, HOST_FULL]);
    expect(byKey.get(hexKey(100, 2))).toBeNull();
    expect(byKey.get(hexKey(7, 2))).toEqual(vals(1));
    expect(byKey.has(hexKey(8, 2))).toBe(false);
    // a deletion of an absent key stays in the write-set (it was written) but adds nothing to storage
    expect(footprintOf(after(snapshot, out)).items).toBe(10);
  });

  it('accounts overwrites and deletions as replacements of the stored or pending value', () => {
    // at the byte cap from the start: snapshot 2 + 1000 + 2 + 10 bytes plus "r" exactly fill it
    const n = 7;
    const snapshot = withR(n, [
      [hexKey(1, 2), vals(1000)],
      [hexKey(2, 2), vals(10)],
    ]);
    const quota = { maxBytes: footprintOf(snapshot).bytes, maxItems: 3 };
    const cmds: Cmd[] = [
      { id: 3, keyLen: 2, valLen: 1 }, // new key: FULL (bytes and items)
      { id: 1, keyLen: 2, valLen: 400 }, // shrink key 1 by 600: fits, returns the stored 1000
      { id: 2, keyLen: 2, valLen: 610 }, // grow key 2 by 600 into the freed room: fits exactly
      { id: 2, keyLen: 2, valLen: 611 }, // one byte over: FULL, key 2 keeps its pending 610
      { id: 1, keyLen: 2, valLen: 0 }, // delete key 1: frees 2 + 400 bytes and an item, returns the pending 400
      { id: 3, keyLen: 2, valLen: 400 }, // a new key in exactly that room
      { id: 2, keyLen: 2, valLen: 611 }, // still FULL
    ];
    const { out, results, byKey } = runScript(mod, cmds, snapshot, quota);
    expect(results).toEqual([HOST_FULL, 1000n, 10n, HOST_FULL, 400n, HOST_NONE, HOST_FULL]);
    expect(byKey.get(hexKey(1, 2))).toBeNull();
    expect(isVals(byKey.get(hexKey(2, 2)), 610)).toBe(true);
    expect(isVals(byKey.get(hexKey(3, 2)), 400)).toBe(true);
    expect(footprintOf(after(snapshot, out))).toEqual({ bytes: quota.maxBytes, items: 3 });
  });

  it('lets a service over its quota (lowered by an operator) shrink and delete, but not grow', () => {
    const cmds: Cmd[] = [
      { id: 9, keyLen: 1, valLen: 1 }, // new key: FULL
      { id: 0, keyLen: 1, valLen: 1001 }, // growing overwrite: FULL
      { id: 0, keyLen: 1, valLen: 1000 }, // same size: fits
      { id: 0, keyLen: 1, valLen: 10 }, // shrink: fits although still over
      { id: 1, keyLen: 1, valLen: 0 }, // delete: fits
      { id: 2, keyLen: 1, valLen: 0 }, // delete: fits; now within maxBytes but 3 items, still over maxItems
      { id: 0, keyLen: 1, valLen: 11 }, // growing by 1 byte while over the item cap: FULL
      { id: 3, keyLen: 1, valLen: 0 }, // delete: 2 items, within both caps
      { id: 0, keyLen: 1, valLen: 11 }, // growth within the quota: fits again
    ];
    // "r" (1 + 8 x 9 bytes) and 4 keys of 1 + 1000 bytes: 4077 bytes, 5 items, over both caps
    const snapshot = withR(
      cmds.length,
      Array.from({ length: 4 }, (_, i) => [hexKey(i, 1), vals(1000)] as [string, Uint8Array]),
    );
    const quota = { maxBytes: 1500, maxItems: 2 };
    const { results, out } = runScript(mod, cmds, snapshot, quota);
    expect(results).toEqual([HOST_FULL, HOST_FULL, 1000n, 1000n, 1000n, 1000n, HOST_FULL, 1000n, 10n]);
    expect(footprintOf(after(snapshot, out))).toEqual({ bytes: rBytes(cmds.length) + 1 + 11, items: 2 });
  });

  it('a quota of 0 bytes refuses every write that stores anything, and allows every deletion', () => {
    const snapshot = withR(3, [[hexKey(5, 1), vals(3)]]);
    const { results, byKey } = runScript(
      mod,
      [
        { id: 5, keyLen: 1, valLen: 0 },
        { id: 6, keyLen: 1, valLen: 1 },
        { id: 6, keyLen: 1, valLen: 0 },
      ],
      snapshot,
      { maxBytes: 0, maxItems: 0 },
    );
    expect(results).toEqual([3n, HOST_FULL, HOST_NONE]);
    expect(byKey.get(hexKey(5, 1))).toBeNull();
  });

  it('matches a from-scratch footprint model on 2000 random writes (the running totals never drift)', () => {
    // mulberry32: a small seeded PRNG, so a failure reproduces
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const cmds: Cmd[] = Array.from({ length: 2000 }, () => ({ id: rnd(24), keyLen: 2 + rnd(3), valLen: rnd(4) === 0 ? 0 : 1 + rnd(200) }));
    const snapshot = withR(
      cmds.length,
      Array.from({ length: 12 }, (_, i) => [hexKey(i, 2 + (i % 3)), vals(1 + i * 17)] as [string, Uint8Array]),
    );
    const quota: StorageQuota = { maxBytes: footprintOf(snapshot).bytes + 1500, maxItems: 20 };

    // the rule of docs/service-abi.md, with the footprint summed from scratch after every write
    const state = new Map([...snapshot].map(([k, v]) => [k, v.length]));
    const sum = () => [...state].reduce((b, [k, len]) => b + (k.length - 2) / 2 + len, 0);
    const expected = cmds.map((c) => {
      const k = hexKey(c.id, c.keyLen);
      const prev = state.get(k);
      const bytesBefore = sum();
      if (c.valLen === 0) state.delete(k);
      else state.set(k, c.valLen);
      const bytesAfter = sum();
      if (bytesAfter > bytesBefore && (bytesAfter > quota.maxBytes || state.size > quota.maxItems)) {
        if (prev === undefined) state.delete(k);
        else state.set(k, prev);
        return HOST_FULL;
      }
      return prev === undefined ? HOST_NONE : BigInt(prev);
    });
    const { out, results } = runScript(mod, cmds, snapshot, quota);
    expect(results).toEqual(expected);
    expect(results.filter((r) => r === HOST_FULL).length).toBeGreaterThan(100);
    const final = after(snapshot, out);
    expect(new Map([...final].map(([k, v]) => [k, v.length]))).toEqual(state);
    expect(footprintOf(final).bytes).toBeLessThanOrEqual(quota.maxBytes);
    expect(final.size).toBeLessThanOrEqual(quota.maxItems);
  });
});

describe('storage footprint quota (SandboxPool)', () => {
  let pool: SandboxPool;
  let code: Uint8Array;
  let codeHash: string;

  beforeAll(async () => {
    await initHashing();
    code = await wat2wasm(SCRIPT_GUEST, 'write-set-script.wat');
    codeHash = toHex(blake2b256(code));
    pool = new SandboxPool({ size: 1, wallClockMs: 60_000 });
    await pool.start();
  });
  afterAll(() => pool.close());

  const request = (cmds: Cmd[], storage: Map<string, Uint8Array>, storageQuota: StorageQuota) => ({
    codeHash,
    code,
    serviceId: 3,
    gasLimit: 10_000_000_000n,
    operands: [{ packageHash: '0x01', payloadHash: '0x02', result: { ok: script(cmds) } }],
    storage,
    storageQuota,
  });

  it('carries the quota into the executor: the same outcome as in process', async () => {
    const cmds: Cmd[] = [
      { id: 1, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES },
      { id: 2, keyLen: 1, valLen: 10 },
      { id: 1, keyLen: 1, valLen: 0 },
      { id: 2, keyLen: 1, valLen: 10 },
    ];
    const snapshot = new Map([[hexKey(7, 1), vals(5)]]);
    const quota = { maxBytes: 6 + rBytes(4) + 11, maxItems: 3 };
    const viaPool = await pool.accumulate(request(cmds, snapshot, quota));
    const inProcess = runScript(mod, cmds, snapshot, quota);
    expect(viaPool).toEqual(inProcess.out);
    expect(inProcess.results).toEqual([HOST_FULL, HOST_NONE, HOST_NONE, 10n]);
  });

  it('refuses a bad quota or a snapshot larger than an executor can be given, before running anything', async () => {
    const none = new Map<string, Uint8Array>();
    await expect(pool.accumulate(request([], none, { maxBytes: -1, maxItems: 1 }))).rejects.toThrow(RangeError);
    await expect(pool.accumulate(request([], none, { maxBytes: 1, maxItems: 0.5 }))).rejects.toThrow(/non-negative safe integers/);
    const tooMany = new Map(Array.from({ length: MAX_STORAGE_SNAPSHOT_ITEMS + 1 }, (_, i) => [toHex(keyOf(i, 4)), vals(1)] as [string, Uint8Array]));
    await expect(pool.accumulate(request([], tooMany, { maxBytes: BIG, maxItems: BIG }))).rejects.toThrow(/MAX_STORAGE_SNAPSHOT_ITEMS/);
    // one shared 1 MiB buffer under 257 keys: 257 MiB + keys without allocating it
    const mib = vals(MAX_STORAGE_VALUE_BYTES);
    const tooBig = new Map(
      Array.from({ length: MAX_STORAGE_SNAPSHOT_BYTES / MAX_STORAGE_VALUE_BYTES + 1 }, (_, i) => [toHex(keyOf(i, 4)), mib] as [string, Uint8Array]),
    );
    await expect(pool.accumulate(request([], tooBig, { maxBytes: BIG, maxItems: BIG }))).rejects.toThrow(/MAX_STORAGE_SNAPSHOT_BYTES/);
    // the executor is untouched and serves the next job
    expect((await pool.accumulate(request([], withR(0), { maxBytes: 100, maxItems: 1 }))).status).toBe('ok');
  });
});
