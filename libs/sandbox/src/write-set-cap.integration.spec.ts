/**
 * The accumulate write-set cap (docs/service-abi.md, "Write-set cap"): `write` answers FULL, and
 * changes nothing, when the job's write-set would exceed MAX_WRITE_SET_BYTES (keys + values) or
 * MAX_WRITE_SET_KEYS distinct keys. In process first, then through SandboxPool (needs the build:
 * the pool forks dist/libs/sandbox/src/executor.process.js).
 */
import { readFileSync } from 'node:fs';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import { wat2wasm } from '../../../test/sandbox/sandbox-test.helpers';
import { exampleServicePath } from './example-services';
import { HOST_FULL, HOST_NONE, MAX_STORAGE_VALUE_BYTES, MAX_WRITE_SET_BYTES, MAX_WRITE_SET_KEYS } from './host-abi';
import { SandboxPool } from './sandbox.pool';
import type { AccumulateOutcome } from './sandbox.types';
import { MiB, NO_QUOTA, isVals, keyOf, rBytes, runScript as runScriptGuest, scriptGuestModule, type Cmd } from '../test/write-script.guest';

let scriptModule: WebAssembly.Module;

const runScript = (cmds: Cmd[], storage?: Map<string, Uint8Array>) => runScriptGuest(scriptModule, cmds, storage);

/** Sum of key + value bytes of a write-set, as the cap counts it. */
function writeSetBytes(out: AccumulateOutcome): number {
  return out.writes.reduce((n, w) => n + w.key.length + (w.value?.length ?? 0), 0);
}

beforeAll(async () => {
  scriptModule = await scriptGuestModule();
});

describe('write-set cap (executeAccumulate, in process)', () => {
  it('has the documented values', () => {
    expect(MAX_WRITE_SET_BYTES).toBe(4 * MiB);
    expect(MAX_WRITE_SET_KEYS).toBe(4096);
  });

  // r (1 + 8*6 = 49 bytes) + three 1-byte keys with 1 MiB values, then key 4 sized to land exactly on the cap
  const FILL_TO_CAP = MAX_WRITE_SET_BYTES - rBytes(6) - 3 * (1 + MAX_STORAGE_VALUE_BYTES) - 1;
  const boundary = (lastValLen: number): Cmd[] => [
    { id: 1, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES },
    { id: 2, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES },
    { id: 3, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES },
    { id: 4, keyLen: 1, valLen: lastValLen },
    { id: 5, keyLen: 1, valLen: 0 }, // deleting a key not yet in the write-set still needs its 1 key byte
    { id: 1, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES }, // same-size overwrite: always fits
  ];

  it('answers FULL exactly when keys + values would pass MAX_WRITE_SET_BYTES, keeping the writes before it', () => {
    expect(FILL_TO_CAP).toBe(1_048_523);
    const M = BigInt(MAX_STORAGE_VALUE_BYTES);

    // key 4 fills the write-set to exactly the cap: it fits; one more byte of anything does not
    const atCap = runScript(boundary(FILL_TO_CAP));
    expect(atCap.results).toEqual([HOST_NONE, HOST_NONE, HOST_NONE, HOST_NONE, HOST_FULL, M]);
    expect(writeSetBytes(atCap.out)).toBe(MAX_WRITE_SET_BYTES);
    expect(atCap.out.writes.map((w) => [toHex(w.key), w.value?.length ?? null])).toEqual([
      ['0x01', MAX_STORAGE_VALUE_BYTES],
      ['0x02', MAX_STORAGE_VALUE_BYTES],
      ['0x03', MAX_STORAGE_VALUE_BYTES],
      ['0x04', FILL_TO_CAP],
      ['0x72', 48],
    ]);
    expect(isVals(atCap.byKey.get('0x04'), FILL_TO_CAP)).toBe(true);

    // one byte more for key 4: key 4 is refused and absent, everything before it is kept
    const overCap = runScript(boundary(FILL_TO_CAP + 1));
    expect(overCap.results).toEqual([HOST_NONE, HOST_NONE, HOST_NONE, HOST_FULL, HOST_NONE, M]);
    expect(overCap.out.writes.map((w) => toHex(w.key))).toEqual(['0x01', '0x02', '0x03', '0x05', '0x72']);
    expect(overCap.byKey.get('0x05')).toBeNull();
    expect(writeSetBytes(overCap.out)).toBe(MAX_WRITE_SET_BYTES - FILL_TO_CAP);

    // FULL is charged like the write it refused (fixed charge + bytes); the copy is just skipped
    expect(overCap.out.gasUsed).toBe(atCap.out.gasUsed);
  });

  it('counts overwrites of one key as replacements: rewriting a key never reaches the cap', () => {
    // 100 x 1 MiB into key 1 (25x the byte cap in total) and 5000 small rewrites of key 2 (more writes than MAX_WRITE_SET_KEYS)
    const cmds: Cmd[] = [
      ...Array.from({ length: 100 }, () => ({ id: 1, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES })),
      ...Array.from({ length: 5000 }, (_, i) => ({ id: 2, keyLen: 4, valLen: 1 + (i % 64) })),
    ];
    const { out, results } = runScript(cmds);
    expect(results[0]).toBe(HOST_NONE);
    expect(results.slice(1, 100).every((r) => r === BigInt(MAX_STORAGE_VALUE_BYTES))).toBe(true);
    expect(results[100]).toBe(HOST_NONE);
    expect(results.slice(101).every((r, i) => r === BigInt(1 + (i % 64)))).toBe(true);
    expect(out.writes.map((w) => [toHex(w.key), w.value?.length])).toEqual([
      ['0x01', MAX_STORAGE_VALUE_BYTES],
      ['0x02000000', 1 + (4999 % 64)],
      ['0x72', 8 * cmds.length],
    ]);
  });

  it('frees the value bytes of a deleted key (the key itself stays in the write-set)', () => {
    const cmds: Cmd[] = [
      ...boundary(FILL_TO_CAP).slice(0, 4), // exactly at the cap
      { id: 6, keyLen: 1, valLen: 1 }, // FULL
      { id: 1, keyLen: 1, valLen: 0 }, // delete key 1: frees its 1 MiB value, keeps its 1 key byte
      { id: 6, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES - 1 }, // 1 key byte + 1 MiB - 1: back at the cap exactly
      { id: 7, keyLen: 1, valLen: 0 }, // FULL again
      { id: 2, keyLen: 1, valLen: 10 }, // shrinking an entry frees room as well
      { id: 7, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES - 11 }, // fits exactly in what key 2 gave up
    ];
    // rBytes counts 6 commands in FILL_TO_CAP; this script has 10, so its "r" is 32 bytes larger: start 32 bytes lower
    const { out, results, byKey } = runScript(cmds.map((c, i) => (i === 3 ? { ...c, valLen: FILL_TO_CAP - 32 } : c)));
    const M = BigInt(MAX_STORAGE_VALUE_BYTES);
    expect(results).toEqual([HOST_NONE, HOST_NONE, HOST_NONE, HOST_NONE, HOST_FULL, M, HOST_NONE, HOST_FULL, M, HOST_NONE]);
    expect(writeSetBytes(out)).toBe(MAX_WRITE_SET_BYTES);
    expect(byKey.get('0x01')).toBeNull();
    expect(isVals(byKey.get('0x02'), 10)).toBe(true);
    expect(isVals(byKey.get('0x06'), MAX_STORAGE_VALUE_BYTES - 1)).toBe(true);
    expect(isVals(byKey.get('0x07'), MAX_STORAGE_VALUE_BYTES - 11)).toBe(true);
  });

  it('answers FULL for the key past MAX_WRITE_SET_KEYS; overwrites and deletions of keys in the set still work', () => {
    // "r" holds one key, so MAX_WRITE_SET_KEYS - 1 new keys fit
    const fill = Array.from({ length: MAX_WRITE_SET_KEYS }, (_, i) => ({ id: i, keyLen: 4, valLen: 1 }));
    const cmds: Cmd[] = [
      ...fill,
      { id: 0, keyLen: 4, valLen: 2 }, // overwrite: fits
      { id: 1, keyLen: 4, valLen: 0 }, // delete of a key in the set: fits, but frees no key slot
      { id: 9999, keyLen: 4, valLen: 0 }, // deletion of a new key: a new entry, FULL
      { id: 9999, keyLen: 4, valLen: 1 }, // FULL
    ];
    const storage = new Map([[toHex(keyOf(5, 4)), new Uint8Array(3)]]);
    const { out, results, byKey } = runScript(cmds, storage);
    const last = MAX_WRITE_SET_KEYS - 1;
    expect(results.slice(0, last).every((r, i) => r === (i === 5 ? 3n : HOST_NONE))).toBe(true);
    expect(results.slice(last)).toEqual([HOST_FULL, 1n, 1n, HOST_FULL, HOST_FULL]);
    expect(out.writes).toHaveLength(MAX_WRITE_SET_KEYS);
    expect(byKey.has(toHex(keyOf(last, 4)))).toBe(false);
    expect(byKey.has(toHex(keyOf(9999, 4)))).toBe(false);
    expect(isVals(byKey.get(toHex(keyOf(0, 4))), 2)).toBe(true);
    expect(byKey.get(toHex(keyOf(1, 4)))).toBeNull();
    expect(isVals(byKey.get(toHex(keyOf(last - 1, 4))), 1)).toBe(true);
  });

  it("does not count the storage snapshot, only this job's writes", () => {
    // a service whose stored state is already larger than the cap can still write
    const storage = new Map(Array.from({ length: 8 }, (_, i) => [toHex(keyOf(100 + i, 1)), new Uint8Array(MAX_STORAGE_VALUE_BYTES)] as [string, Uint8Array]));
    const { results } = runScript(
      [
        { id: 100, keyLen: 1, valLen: MAX_STORAGE_VALUE_BYTES },
        { id: 1, keyLen: 1, valLen: 5 },
      ],
      storage,
    );
    expect(results).toEqual([BigInt(MAX_STORAGE_VALUE_BYTES), HOST_NONE]);
  });
});

/**
 * Endless writes of new 256-byte keys with 1 KiB values. Before the cap this grew the executor's
 * heap until it crashed (the job failed with "sandbox executor exited"). `$stop` set: returns 0
 * at the first FULL; else ignores every result and loops until the gas runs out.
 */
const floodGuest = (stopAtFull: boolean) => `(module
  (import "jam" "write" (func $write (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "refine") (param i32 i32) (result i64) (i64.const 0))
  (func (export "accumulate") (param i32) (result i64)
    (local $i i32) (local $r i64)
    (loop $next
      (i32.store (i32.const 0) (local.get $i))
      (local.set $r (call $write (i32.const 0) (i32.const 256) (i32.const 1024) (i32.const 1024)))
      ${stopAtFull ? `(if (i64.eq (local.get $r) (i64.const ${-5n})) (then (return (i64.const 0))))` : ''}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))
    (i64.const 1)))`;

describe('write-set cap (SandboxPool)', () => {
  let pool: SandboxPool;

  beforeAll(async () => {
    await initHashing();
    pool = new SandboxPool({ size: 1, wallClockMs: 60_000 });
    await pool.start();
  });
  afterAll(() => pool.close());

  const accumulate = async (code: Uint8Array, gasLimit: bigint) =>
    pool.accumulate({ codeHash: toHex(blake2b256(code)), code, serviceId: 9, gasLimit, operands: [], storage: new Map(), storageQuota: NO_QUOTA });

  it('a hostile accumulate (large gas, endless writes) gets a normal outcome and the executor keeps serving', async () => {
    const [pid] = pool.executorPids();
    expect(pid).toBeDefined();

    // ignores FULL and writes on: ends out_of_gas like any runaway loop, no writes
    const endless = await wat2wasm(floodGuest(false), 'write-flood.wat');
    const gas = 40_000_000n;
    const a = await accumulate(endless, gas);
    expect(a).toEqual({ status: 'out_of_gas', gasUsed: gas, writes: [], logs: [], trap: expect.objectContaining({ kind: 'out_of_gas' }) });
    expect(await accumulate(endless, gas)).toEqual(a);

    // stops at the first FULL: ok, with exactly the writes that fit the byte cap (256 + 1024 bytes each)
    const polite = await wat2wasm(floodGuest(true), 'write-until-full.wat');
    const b = await accumulate(polite, gas);
    expect(b.status).toBe('ok');
    expect(b.timedOut).toBeUndefined();
    expect(b.writes).toHaveLength(Math.floor(MAX_WRITE_SET_BYTES / 1280));
    expect(b.writes).toHaveLength(3276);
    // writes are sorted by key bytes; the keys are the loop counters 0..3275 (LE) padded to 256 bytes
    expect(b.writes.every((w) => w.key.length === 256 && w.value?.length === 1024)).toBe(true);
    expect(b.writes.map((w) => Buffer.from(w.key).readUInt32LE(0)).sort((x, y) => x - y)).toEqual(Array.from({ length: 3276 }, (_, i) => i));
    expect(await accumulate(polite, gas)).toEqual(b);

    // the same executor process, still serving
    expect(pool.executorPids()).toEqual([pid]);
    const code = new Uint8Array(readFileSync(exampleServicePath('word-count')));
    const u64 = (n: bigint) => {
      const x = Buffer.alloc(8);
      x.writeBigUInt64LE(n);
      return new Uint8Array(x);
    };
    const next = await pool.accumulate({
      codeHash: toHex(blake2b256(code)),
      code,
      serviceId: 7,
      gasLimit: 10_000_000n,
      operands: [{ packageHash: '0x01', payloadHash: '0x02', result: { ok: u64(5n) } }],
      storage: new Map(),
      storageQuota: NO_QUOTA,
    });
    expect(next.status).toBe('ok');
    expect(next.writes.map((w) => Buffer.from(w.key).toString())).toEqual(['items', 'words']);
  });
});
