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
  const m = (await wabt).parseWat(name, text, {
    simd: true,
    threads: true,
    exceptions: true,
    tail_call: true,
    reference_types: true,
    multi_memory: true,
    memory64: true,
    bulk_memory: true,
    multi_value: true,
  });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/**
 * Compiles `test/fixtures/hostile/<name>.wat`, expanding the corpus's two directives (comment
 * lines, so the file stays valid WAT; see test/fixtures/hostile/README.md):
 * - `;;@repeat N` ... `;;@end`: the lines between are written N times before wabt compiles the text;
 * - `;;@body F HEX*N HEX*N ...`: after compiling, the body of defined function F is replaced by no
 *   locals and the given instruction bytes (each HEX repeated N times, `*N` optional) plus `end`.
 *   For nesting shapes only: npm wabt's parser overflows its own stack past about 150 nested
 *   blocks (measured: "memory access out of bounds" at 200 flat or 500 folded levels).
 */
export function hostile(name: string): Promise<Uint8Array> {
  return compileFixture(readFileSync(path.join(HOSTILE_DIR, `${name}.wat`), 'utf8'), `${name}.wat`);
}

async function compileFixture(source: string, name: string): Promise<Uint8Array> {
  const out: string[] = [];
  const bodies: { func: number; bytes: Buffer }[] = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const repeat = /^\s*;;@repeat (\d+)\s*$/.exec(line);
    const body = /^\s*;;@body (\d+) (.+)$/.exec(line);
    if (repeat) {
      const end = lines.findIndex((l, k) => k > i && /^\s*;;@end\s*$/.test(l));
      if (end < 0) throw new Error(`${name}:${i + 1}: @repeat without @end`);
      const block = lines.slice(i + 1, end).join('\n') + '\n';
      out.push(block.repeat(Number(repeat[1])));
      i = end;
    } else if (body) {
      const parts = (body[2] as string)
        .trim()
        .split(/\s+/)
        .map((p) => {
          const [hex, times] = p.split('*');
          return Buffer.from(hex as string, 'hex')
            .toString('latin1')
            .repeat(times === undefined ? 1 : Number(times));
        });
      bodies.push({ func: Number(body[1]), bytes: Buffer.from(parts.join('') + '\x0b', 'latin1') });
    } else out.push(line);
  }
  let wasm = await wat2wasm(out.join('\n'), name);
  for (const b of bodies) wasm = replaceBody(wasm, b.func, Buffer.concat([Buffer.of(0x00), b.bytes]));
  return wasm;
}

function readU32(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++] as number;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, pos];
  }
}

function writeU32(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** The module with the body (locals + expression) of defined function `func` replaced, sizes re-encoded. */
function replaceBody(wasm: Uint8Array, func: number, body: Buffer): Uint8Array {
  const parts: Buffer[] = [Buffer.from(wasm.subarray(0, 8))];
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos] as number;
    const [size, start] = readU32(wasm, pos + 1);
    const payload = wasm.subarray(start, start + size);
    pos = start + size;
    if (id !== 10) {
      parts.push(Buffer.of(id), writeU32(size), Buffer.from(payload));
      continue;
    }
    const [count, first] = readU32(payload, 0);
    const code: Buffer[] = [writeU32(count)];
    let p = first;
    for (let k = 0; k < count; k++) {
      const [len, at] = readU32(payload, p);
      code.push(k === func ? Buffer.concat([writeU32(body.length), body]) : Buffer.from(payload.subarray(p, at + len)));
      p = at + len;
    }
    const section = Buffer.concat(code);
    parts.push(Buffer.of(id), writeU32(section.length), section);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A refine request for `code` (hash computed here). */
export async function refineRequest(code: Uint8Array, payload: Uint8Array = new Uint8Array(0), gasLimit = 10_000_000n): Promise<RefineRequest> {
  await initHashing();
  return { codeHash: toHex(blake2b256(code)), code, serviceId: 1, itemIndex: 0, payload, gasLimit, preimages: new Map() };
}
