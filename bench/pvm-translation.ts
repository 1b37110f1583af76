/**
 * PVM-to-Wasm translator: what a translation costs (it runs at the registration check and on an
 * executor's cache miss), for a real service and for the largest hostile shapes under the
 * translator's caps: translate (our code), compile (`new WebAssembly.Module`), instantiate, and the
 * first run to an exit (V8 compiles the function lazily, on that first call), with the module's
 * size and the process's resident memory growth. Results: docs/performance.md section 13,
 * "PVM-to-Wasm translator".
 *
 * Run: npm run build && npm run bench -- pvm-translation
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeServiceBlob, type PvmCodeBlob } from '../libs/sandbox/src/pvm/pvm-program';
import { TranslatedMachine } from '../libs/sandbox/src/pvm/pvm-wasm.machine';
import { PVM_TRANSLATOR_MAX_SEGMENTS, PvmTranslationRefused, translatePvm } from '../libs/sandbox/src/pvm/pvm-wasm.translator';
import { repoRoot } from './repo-root';

/** A generic blob of `count` copies of one instruction (bytes), then `trap`. */
function repeated(instruction: number[], count: number): PvmCodeBlob {
  const code = [...Array.from({ length: count }, () => instruction).flat(), 0];
  const starts = new Uint8Array(code.length);
  for (let i = 0; i < count; i++) starts[i * instruction.length] = 1;
  starts[code.length - 1] = 1;
  return { jumpTable: [], code: Uint8Array.from(code), starts };
}

function measure(name: string, blob: PvmCodeBlob, entries: number[]): void {
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let translation;
  try {
    translation = translatePvm(blob, entries);
  } catch (e) {
    if (!(e instanceof PvmTranslationRefused)) throw e;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`${name.padEnd(44)} refused after ${ms.toFixed(0)} ms: ${e.reason}`);
    return;
  }
  const t1 = process.hrtime.bigint();
  const module = new WebAssembly.Module(translation.wasm);
  const t2 = process.hrtime.bigint();
  const m = new TranslatedMachine({ translation, module }, 512 * 1024 * 1024);
  const t3 = process.hrtime.bigint();
  m.setGas(0n); // out of gas at the first segment's end: the function is compiled and entered
  m.enter(translation.segmentAt.get(entries[0]!)!);
  const t4 = process.hrtime.bigint();
  const ms = (a: bigint, b: bigint) => (Number(b - a) / 1e6).toFixed(1).padStart(8);
  console.log(
    `${name.padEnd(44)} code ${String(blob.code.length).padStart(9)} B, ${String(translation.segments.length).padStart(7)} segments, module ${String(translation.wasm.length).padStart(9)} B;` +
      ` ms: translate ${ms(t0, t1)}, compile ${ms(t1, t2)}, instantiate ${ms(t2, t3)}, first run ${ms(t3, t4)}; rss +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB`,
  );
}

const service = decodeServiceBlob(readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'jam-vectors', 'pvm-services', 'test-service.jam'))).program.blob;
measure('test-service.jam (JAM SDK, accumulate vectors)', service, [0, 5]);
measure(`${PVM_TRANSLATOR_MAX_SEGMENTS} fallthroughs (one segment each)`, repeated([1], PVM_TRANSLATOR_MAX_SEGMENTS - 1), [0]);
measure('170,000 add_64 (one straight segment, 510 KB)', repeated([200, 0x87, 0x08], 170_000), [0]);
measure('120,000 store_ind_u64 (memory sites, over the body cap)', repeated([123, 0x98], 120_000), [0]);
measure('9,999 branch_eq (2 segments each)', repeated([170, 0x87, 1, 0, 0, 0], 9_999), [0]);
measure('60,000 branch_eq (over the segment cap)', repeated([170, 0x87, 1, 0, 0, 0], 60_000), [0]);
measure('700,000 add_64 (2.1 MB, over the code cap)', repeated([200, 0x87, 0x08], 700_000), [0]);
