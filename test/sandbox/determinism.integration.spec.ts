/**
 * Determinism of the sandbox: the same module, input and engine give the same outcome and gas
 * across fresh executor processes, across the executors of one pool, and for the first (cold,
 * baseline-compiled) and hundredth (optimised) run. Needs `npm run build`.
 */
import { readFileSync } from 'node:fs';
import { SandboxPool, exampleServicePath, type RefineOutcome, type RefineRequest } from '@jam/sandbox';
import { hostile, refineRequest } from './sandbox-test.helpers';

function payload(n: number): Uint8Array {
  // deterministic pseudo-text: words of varying length separated by assorted whitespace
  const out = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const r = x >>> 24;
    out[i] = r < 40 ? ([0x20, 0x09, 0x0a, 0x0d][r & 3] as number) : 0x61 + (r % 26);
  }
  return out;
}

async function jobs(): Promise<Record<string, RefineRequest>> {
  const wordCount = new Uint8Array(readFileSync(exampleServicePath('word-count')));
  const blake2b = new Uint8Array(readFileSync(exampleServicePath('blake2b')));
  return {
    'word-count 64 KiB': await refineRequest(wordCount, payload(64 * 1024), 100_000_000n),
    'blake2b 16 KiB': await refineRequest(blake2b, payload(16 * 1024), 100_000_000n),
    'word-count out of gas': await refineRequest(wordCount, payload(64 * 1024), 1_000_000n),
    'deep recursion (panic at depth limit)': await refineRequest(await hostile('deep-recursion')),
    'loop with calls (out of gas)': await refineRequest(await hostile('loop-with-calls'), new Uint8Array(0), 2_000_000n),
  };
}

async function runAll(pool: SandboxPool, reqs: Record<string, RefineRequest>): Promise<Record<string, RefineOutcome>> {
  const out: Record<string, RefineOutcome> = {};
  for (const [name, req] of Object.entries(reqs)) out[name] = await pool.refine(req);
  return out;
}

describe('sandbox determinism', () => {
  let reqs: Record<string, RefineRequest>;
  let reference: Record<string, RefineOutcome>;

  beforeAll(async () => {
    reqs = await jobs();
  });

  it('gives identical outcomes and gas in 3 fresh executor processes', async () => {
    const runs: Record<string, RefineOutcome>[] = [];
    for (let i = 0; i < 3; i++) {
      const pool = new SandboxPool({ size: 1 });
      await pool.start();
      try {
        runs.push(await runAll(pool, reqs));
      } finally {
        await pool.close();
      }
    }
    reference = runs[0] as Record<string, RefineOutcome>;
    expect(runs[1]).toEqual(reference);
    expect(runs[2]).toEqual(reference);
    // the jobs really are different kinds of outcome
    expect(Object.values(reference).map((o) => Object.keys(o.result)[0])).toEqual(['ok', 'ok', 'out_of_gas', 'panic', 'out_of_gas']);
  });

  it('gives identical outcomes on every executor of one pool', async () => {
    const pool = new SandboxPool({ size: 2 });
    await pool.start();
    try {
      for (const [name, req] of Object.entries(reqs)) {
        // two at once: both executors are idle, so each takes one
        const [a, b] = await Promise.all([pool.refine(req), pool.refine(req)]);
        expect({ name, outcome: a }).toEqual({ name, outcome: reference[name] });
        expect({ name, outcome: b }).toEqual({ name, outcome: reference[name] });
      }
    } finally {
      await pool.close();
    }
  });

  it('gives the same outcome on the first (cold) and the hundredth (optimised) run', async () => {
    const pool = new SandboxPool({ size: 1 });
    await pool.start();
    try {
      for (const name of ['word-count 64 KiB', 'deep recursion (panic at depth limit)', 'blake2b 16 KiB']) {
        const req = reqs[name] as RefineRequest;
        const outcomes: RefineOutcome[] = [];
        for (let i = 0; i < 100; i++) outcomes.push(await pool.refine(req));
        expect({ name, first: outcomes[0] }).toEqual({ name, first: reference[name] });
        expect({ name, hundredth: outcomes[99] }).toEqual({ name, hundredth: reference[name] });
        expect(new Set(outcomes.map((o) => o.gasUsed)).size).toBe(1);
      }
    } finally {
      await pool.close();
    }
  });
});
