/**
 * Test-only script-driven accumulate guest for the `write` cap specs (write-set cap, storage
 * footprint quota): one guest runs any sequence of writes given as its operand, and returns the
 * result code of each.
 */
import { toHex } from '@jam/domain';
import { wat2wasm } from '../../../test/sandbox/sandbox-test.helpers';
import type { AccumulateOutcome, StorageQuota } from '../src/sandbox.types';
import { meterServiceCode } from '../src/service-code.validator';
import { executeAccumulate } from '../src/service.executor';

export const MiB = 1024 * 1024;
/** Every value byte the guest writes. */
export const VAL_BYTE = 0xab;
/** A footprint quota no test reaches: only the write-set cap applies. */
export const NO_QUOTA: StorageQuota = Object.freeze({ maxBytes: Number.MAX_SAFE_INTEGER, maxItems: Number.MAX_SAFE_INTEGER });

/**
 * Script-driven accumulate guest. Operand 0's output is a list of 12-byte commands
 * `(key_id u32, key_len u32, val_len u32)`, all LE. The key is `key_id` LE in its first 4 bytes,
 * zeros after (so `key_len` 1 gives the one-byte key `key_id`); the value is `val_len` bytes 0xab.
 * The guest first writes key "r" (1 byte) with 8 x command-count zero bytes, reserving its
 * result slot; then runs each command, storing each `write` result (i64 LE) in the results area;
 * then overwrites "r" with the results (same size, so it always fits) and returns 0.
 * Memory: key at 0, "r" at 512, results at 1024, script at 0x20000, value at 0x40000 (1 MiB).
 */
export const SCRIPT_GUEST = `(module
  (import "jam" "fetch" (func $fetch (param i32 i32 i32 i32 i32) (result i64)))
  (import "jam" "write" (func $write (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 21)
  (data (i32.const 512) "r")
  (func (export "refine") (param i32 i32) (result i64) (i64.const 0))
  (func (export "accumulate") (param $n i32) (result i64)
    (local $cmds i32) (local $j i32) (local $p i32)
    (local.set $cmds (i32.div_u
      (i32.wrap_i64 (call $fetch (i32.const 1) (i32.const 0) (i32.const 0x20000) (i32.const 0) (i32.const 0x20000)))
      (i32.const 12)))
    (memory.fill (i32.const 0x40000) (i32.const ${VAL_BYTE}) (i32.const ${MiB}))
    (drop (call $write (i32.const 512) (i32.const 1) (i32.const 1024) (i32.shl (local.get $cmds) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $cmds)))
        (local.set $p (i32.add (i32.const 0x20000) (i32.mul (local.get $j) (i32.const 12))))
        (i32.store (i32.const 0) (i32.load (local.get $p)))
        (i64.store (i32.add (i32.const 1024) (i32.shl (local.get $j) (i32.const 3)))
          (call $write (i32.const 0) (i32.load offset=4 (local.get $p)) (i32.const 0x40000) (i32.load offset=8 (local.get $p))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (drop (call $write (i32.const 512) (i32.const 1) (i32.const 1024) (i32.shl (local.get $cmds) (i32.const 3))))
    (i64.const 0)))`;

/** One `write` the script guest makes. */
export interface Cmd {
  id: number;
  keyLen: number;
  valLen: number;
}

/** The guest's operand for `cmds`. */
export function script(cmds: Cmd[]): Uint8Array {
  const b = Buffer.alloc(cmds.length * 12);
  cmds.forEach((c, i) => {
    b.writeUInt32LE(c.id, i * 12);
    b.writeUInt32LE(c.keyLen, i * 12 + 4);
    b.writeUInt32LE(c.valLen, i * 12 + 8);
  });
  return new Uint8Array(b);
}

/** Key bytes of command key `id` with length `len`. */
export function keyOf(id: number, len: number): Uint8Array {
  const b = Buffer.alloc(Math.max(len, 4));
  b.writeUInt32LE(id, 0);
  return new Uint8Array(b.subarray(0, len));
}

/** The result key "r". */
export const R_KEY = new Uint8Array([0x72]);

/** Bytes the reserved "r" entry takes in the write-set for `n` commands: key 1 + value 8n. */
export const rBytes = (n: number) => 1 + 8 * n;

/** Compiles and meters the script guest. */
export async function scriptGuestModule(): Promise<WebAssembly.Module> {
  return new WebAssembly.Module(meterServiceCode(await wat2wasm(SCRIPT_GUEST, 'write-set-script.wat')));
}

/**
 * Runs `cmds` in process on `storage` with `quota`; expects `ok`.
 * @returns the outcome, each command's `write` result, and the final write-set by 0x-hex key
 */
export function runScript(
  mod: WebAssembly.Module,
  cmds: Cmd[],
  storage = new Map<string, Uint8Array>(),
  quota: StorageQuota = NO_QUOTA,
): { out: AccumulateOutcome; results: bigint[]; byKey: Map<string, Uint8Array | null> } {
  const out = executeAccumulate(mod, {
    gasLimit: 10_000_000_000n,
    operands: [{ packageHash: '0x01', payloadHash: '0x02', result: { ok: script(cmds) } }],
    storage,
    storageQuota: quota,
  });
  expect(out.status).toBe('ok');
  const byKey = new Map(out.writes.map((w) => [toHex(w.key), w.value]));
  const r = byKey.get(toHex(R_KEY));
  if (r === undefined || r === null) throw new Error('no result key "r" in the write-set');
  expect(r.length).toBe(8 * cmds.length);
  const results = cmds.map((_, i) => Buffer.from(r).readBigUInt64LE(i * 8));
  return { out, results, byKey };
}

/** True when `v` is `n` bytes of 0xab (Buffer.equals: jest's toEqual walks a 1 MiB array slowly). */
export const isVals = (v: Uint8Array | null | undefined, n: number): boolean => v instanceof Uint8Array && Buffer.from(v).equals(Buffer.alloc(n, VAL_BYTE));
