/**
 * Helpers for the sandbox specs: compile WAT with the npm `wabt` package (no system toolchain),
 * hash code as the pool expects, and make refine requests.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import type { RefineRequest } from '@jam/sandbox';

export const HOSTILE_DIR = path.resolve(__dirname, '..', 'fixtures', 'hostile');

type Wabt = { parseWat(name: string, text: string, features?: Record<string, boolean>): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void } };
let wabt: Promise<Wabt> | undefined;

/** Compiles WebAssembly text to bytes with every post-MVP feature wabt knows enabled (the validator must reject them, not wabt). */
export async function wat2wasm(text: string, name = 'inline.wat'): Promise<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  wabt ??= (require('wabt') as () => Promise<Wabt>)();
  const m = (await wabt).parseWat(name, text, { simd: true, threads: true, exceptions: true, tail_call: true, reference_types: true, multi_memory: true, memory64: true, bulk_memory: true, multi_value: true });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/** Compiles `test/fixtures/hostile/<name>.wat`. */
export function hostile(name: string): Promise<Uint8Array> {
  return wat2wasm(readFileSync(path.join(HOSTILE_DIR, `${name}.wat`), 'utf8'), `${name}.wat`);
}

/** A refine request for `code` (hash computed here). */
export async function refineRequest(code: Uint8Array, payload: Uint8Array = new Uint8Array(0), gasLimit = 10_000_000n): Promise<RefineRequest> {
  await initHashing();
  return { codeHash: toHex(blake2b256(code)), code, serviceId: 1, itemIndex: 0, payload, gasLimit, preimages: new Map() };
}
