/**
 * Registration check (issue 7): what each hostile shape costs, (a) validated in-process, as the
 * gateway did on its event loop before (every other request waited that long), and (b) through
 * `SandboxPool.check` in an executor, as registration does now (the gateway's event loop only
 * waits for an IPC answer). Shapes are generated as bytes here, the same as the corpus fixtures
 * in test/fixtures/hostile (which wabt compiles in the tests).
 *
 * Run: npm run build && npm run bench -- registration-check
 */
import { blake2b } from 'hash-wasm';
import { SandboxPool, validateServiceCode } from '@jam/sandbox';

function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([id, ...u32(payload.length)]), payload]);
}

/** A service module whose refine body is `body` (+ `end`), with `globals` mutable i32 globals. */
function service(body: Buffer, globals = 0): Uint8Array {
  const name = (s: string) => [...u32(s.length), ...Buffer.from(s)];
  const refine = Buffer.concat([Buffer.from([0x00]), body, Buffer.from([0x0b])]);
  const accumulate = Buffer.from([0x00, 0x42, 0x00, 0x0b]);
  const parts = [
    Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]),
    section(1, Buffer.from([2, 0x60, 2, 0x7f, 0x7f, 1, 0x7e, 0x60, 1, 0x7f, 1, 0x7e])),
    section(3, Buffer.from([2, 0, 1])),
    section(5, Buffer.from([1, 0x00, 1])),
  ];
  if (globals > 0) parts.push(section(6, Buffer.concat([Buffer.from(u32(globals)), Buffer.alloc(globals * 5, Buffer.from([0x7f, 0x01, 0x41, 0x07, 0x0b]))])));
  parts.push(section(7, Buffer.from([3, ...name('memory'), 2, 0, ...name('refine'), 0, 0, ...name('accumulate'), 0, 1])));
  parts.push(section(10, Buffer.concat([Buffer.from([2, ...u32(refine.length)]), refine, Buffer.from([accumulate.length]), accumulate])));
  return new Uint8Array(Buffer.concat(parts));
}

const rep = (hex: string, n: number) => Buffer.alloc((hex.length / 2) * n, Buffer.from(hex, 'hex'));
const end0 = Buffer.from('4200', 'hex');

const SHAPES: { name: string; code: () => Uint8Array }[] = [
  { name: 'nested blocks x1,200,000 (3.6 MB)', code: () => service(Buffer.concat([rep('0240', 1_200_000), rep('0b', 1_200_000), end0])) },
  { name: 'nested loops x1,200,000 (3.6 MB)', code: () => service(Buffer.concat([rep('0340', 1_200_000), rep('0b', 1_200_000), end0])) },
  { name: 'nested ifs x720,000 (3.6 MB)', code: () => service(Buffer.concat([rep('41010440', 720_000), rep('0b', 720_000), end0])) },
  { name: 'globals x200,000 (1 MB)', code: () => service(end0, 200_000) },
  { name: 'straight local.get/drop x760,000 (2.28 MB)', code: () => service(Buffer.concat([rep('20001a', 760_000), end0])) },
  { name: 'nop x2,000,000 (2 MB, at the instruction bound)', code: () => service(Buffer.concat([rep('01', 1_999_990), end0])) },
];

async function main(): Promise<void> {
  const pool = new SandboxPool({ size: 1, wallClockMs: 120_000 });
  await pool.start();
  try {
    console.log('| shape | in-process validateServiceCode (ms) | SandboxPool.check (ms) | outcome |');
    console.log('|---|---|---|---|');
    for (const shape of SHAPES) {
      const code = shape.code();
      const t0 = performance.now();
      let local = 'accepted';
      try {
        validateServiceCode(code);
      } catch (e) {
        local = (e as Error).message;
      }
      const inProcess = performance.now() - t0;
      const hash = '0x' + (await blake2b(code, 256));
      const t1 = performance.now();
      const outcome = await pool.check(hash, code);
      const checked = performance.now() - t1;
      const verdict = outcome.valid ? 'accepted' : outcome.reason;
      if (verdict !== local) throw new Error(`${shape.name}: in-process says "${local}", the executor "${verdict}"`);
      console.log(`| ${shape.name} | ${inProcess.toFixed(0)} | ${checked.toFixed(0)} | ${verdict} |`);
    }
  } finally {
    await pool.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
