/**
 * The hostile corpus (test/fixtures/hostile): every guest's expected outcome, through the real
 * executor processes. Needs `npm run build` (the pool forks dist/libs/sandbox/src/executor.process.js).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SandboxPool, exampleServicePath, validateServiceCode, type RefineOutcome } from '@jam/sandbox';
import { HOSTILE_DIR, hostile, refineRequest } from './sandbox-test.helpers';

/** Rejected at registration (`POST /jam/services` answers 422 invalid_code with this reason). */
const REJECTED: Record<string, string> = {
  'start-function': 'start function not allowed',
  'wasi-imports': 'import outside "jam": wasi_snapshot_preview1.clock_time_get',
  'unknown-host-import': 'unknown host function: jam.clock',
  'wrong-host-signature': 'wrong signature for host function jam.fetch',
  'imported-memory': 'import of a non-function: jam.memory',
  simd: 'unsupported opcode 0xfd in function 0',
  atomics: 'unsupported opcode 0xfe in function 0',
  'shared-memory': 'shared memory',
  'multi-memory': 'malformed module: not a valid WebAssembly binary',
  memory64: 'malformed module: not a valid WebAssembly binary',
  'huge-initial-memory': 'memory minimum of 65536 pages exceeds the cap of 1024 pages',
  'data-segment-out-of-bounds': 'data segment out of bounds of the initial memory (65535 + 4 > 65536 bytes)',
  'float-nan-payload': 'float instruction 0x43 in function 0',
  'float-global': 'float value type in global 0',
  exceptions: 'unsupported section 13',
  'tail-call': 'unsupported opcode 0x12 in function 0',
  'reference-types': 'unsupported table type: only funcref',
  'huge-frame': 'function 0 needs 2050 frame slots (params + locals + operand stack), over the 2048-slot limit',
  'huge-table': 'table minimum of 10000000 elements exceeds the cap of 65536 elements',
};

const GAS = 5_000_000n;

/** Valid modules that run: the GP work result and the exact gas they must end with. */
const RUNS: Record<string, Pick<RefineOutcome, 'result' | 'gasUsed'>> = {
  'infinite-loop': { result: { out_of_gas: null }, gasUsed: GAS },
  'loop-with-calls': { result: { out_of_gas: null }, gasUsed: GAS },
  'memory-grow-bomb': { result: { out_of_gas: null }, gasUsed: GAS },
  // refine's block (i64.const + call = 5) then 1024 frames of $down (4 x 1 + call 4 = 8) before the 1025th call traps
  'deep-recursion': { result: { panic: null }, gasUsed: 5n + 1024n * 8n },
  // i64.const + end
  'oversized-output': { result: { oversize: null }, gasUsed: 2n },
  'output-out-of-memory': { result: { panic: null }, gasUsed: 2n },
};

describe('hostile corpus', () => {
  let pool: SandboxPool;

  beforeAll(async () => {
    pool = new SandboxPool({ size: 2, wallClockMs: 5_000 });
    await pool.start();
  });
  afterAll(() => pool.close());

  it('covers every fixture file', () => {
    const names = readdirSync(HOSTILE_DIR)
      .filter((f) => f.endsWith('.wat'))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(names).toEqual([...Object.keys(REJECTED), ...Object.keys(RUNS)].sort());
  });

  it.each(Object.entries(REJECTED))('%s is rejected at registration with the exact reason', async (name, reason) => {
    const code = await hostile(name);
    expect(() => validateServiceCode(code)).toThrow(expect.objectContaining({ code: 'invalid_code', message: reason, details: expect.objectContaining({ reason }) }));
    // and if it reached an executor anyway (registered under an older engine), refine says bad_code
    expect(await pool.refine(await refineRequest(code))).toEqual({ result: { bad_code: null }, gasUsed: 0n, logs: [] });
  });

  it('malformed bytes are rejected', async () => {
    const code = new Uint8Array(Buffer.from(readFileSync(path.join(HOSTILE_DIR, 'malformed.hex'), 'utf8').trim(), 'hex'));
    expect(() => validateServiceCode(code)).toThrow(expect.objectContaining({ code: 'invalid_code', message: 'malformed module: not a valid WebAssembly binary' }));
    expect((await pool.refine(await refineRequest(code))).result).toEqual({ bad_code: null });
  });

  it.each(Object.entries(RUNS))('%s runs to its documented result and gas', async (name, expected) => {
    const code = await hostile(name);
    expect(() => validateServiceCode(code)).not.toThrow();
    const outcome = await pool.refine(await refineRequest(code, new Uint8Array(0), GAS));
    expect({ result: outcome.result, gasUsed: outcome.gasUsed }).toEqual(expected);
    expect(outcome.timedOut).toBeUndefined();
  });

  it('an infinite loop with an enormous gas limit is stopped by the wall clock: timedOut, executor replaced', async () => {
    // 2 s, not less: the follow-up job runs on a freshly forked executor (cold start + compile),
    // which took over 500 ms under the full suite's load on 2 cores.
    const quick = new SandboxPool({ size: 1, wallClockMs: 2000 });
    await quick.start();
    try {
      const [before] = quick.executorPids();
      const req = await refineRequest(await hostile('infinite-loop'), new Uint8Array(0), (1n << 63n) - 1n);
      const outcome = await quick.refine(req);
      expect(outcome).toEqual({ result: { panic: null }, gasUsed: (1n << 63n) - 1n, logs: [], timedOut: true });
      const wordCount = new Uint8Array(readFileSync(exampleServicePath('word-count')));
      expect((await quick.refine(await refineRequest(wordCount, new TextEncoder().encode('still alive')))).result).toEqual({ ok: u64le(2n) });
      expect(quick.executorPids()).toHaveLength(1);
      expect(quick.executorPids()[0]).not.toBe(before);
    } finally {
      await quick.close();
    }
  });

  it('after the whole corpus every executor is healthy and word-count refines', async () => {
    expect(pool.executorPids()).toHaveLength(2);
    const wordCount = new Uint8Array(readFileSync(exampleServicePath('word-count')));
    const req = await refineRequest(wordCount, new TextEncoder().encode('the pool  survived\nthe corpus'));
    // two at once: one per executor
    const outcomes = await Promise.all([pool.refine(req), pool.refine(req)]);
    for (const o of outcomes) expect(o.result).toEqual({ ok: u64le(5n) });
    expect(outcomes[0]?.gasUsed).toBe(outcomes[1]?.gasUsed);
  });
});

function u64le(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}
