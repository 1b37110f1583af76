import { readFileSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { blake2b } from 'hash-wasm';
import { serviceModule } from '../test/wasm-module.builder';
import { exampleServicePath } from './example-services';
import { SHORT_CALL_GAS, SandboxPool } from './sandbox.pool';
import { ENGINE_IDENTITY, type AccumulateOperand, type RefineRequest } from './sandbox.types';
import { echoService, spinService } from '../test/pvm-service.builder';
import { PVM_ENGINE_IDENTITY } from './pvm/pvm.machine';

/** Independent reference: maximal runs of bytes that are not ASCII whitespace. */
function countWords(bytes: Uint8Array): bigint {
  const ws = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
  let count = 0n;
  let inWord = false;
  for (const b of bytes) {
    if (ws.has(b)) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

function u64le(n: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return new Uint8Array(b);
}

/** Deterministic pseudo-random text: letters, digits, every ASCII whitespace byte and some UTF-8. */
function randomText(bytes: number, seed: number): Uint8Array {
  const alphabet = Buffer.from('abc xyz\t\n\r\v\f 0123 é日 ', 'utf8');
  const out = new Uint8Array(bytes);
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = alphabet[x % alphabet.length] as number;
  }
  return out;
}

async function hashOf(code: Uint8Array): Promise<string> {
  return '0x' + (await blake2b(code, 256));
}

describe('SandboxPool', () => {
  let pool: SandboxPool;
  let code: Uint8Array;
  let codeHash: string;
  const refineReq = (payload: Uint8Array, over: Partial<RefineRequest> = {}): RefineRequest => ({
    codeHash,
    code,
    serviceId: 7,
    itemIndex: 0,
    payload,
    gasLimit: 100_000_000n,
    preimages: new Map(),
    ...over,
  });

  beforeAll(async () => {
    code = new Uint8Array(readFileSync(exampleServicePath('word-count')));
    codeHash = await hashOf(code);
    pool = new SandboxPool({ size: 2, wallClockMs: 10_000 });
    await pool.start();
  });

  afterAll(async () => {
    await pool.close();
  });

  describe('word-count refine', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['whitespace only', Buffer.from(' \t\n\r\v\f  \n')],
      ['one word', Buffer.from('word')],
      ['leading and trailing space', Buffer.from('  two   words  ')],
      ['unicode (U+3000 is not ASCII whitespace)', Buffer.from('héllo wörld 日本語\u3000x\u00a0y\n', 'utf8')],
      ['100 KB random text', randomText(100_000, 42)],
      ['binary bytes', randomText(70_000, 7).map((b, i) => (b * 31 + i) & 0xff)],
    ];
    it.each(cases)('%s', async (_name, payload) => {
      const out = await pool.refine(refineReq(payload));
      expect(out.result).toEqual({ ok: u64le(countWords(payload)) });
      expect(out.gasUsed).toBeGreaterThan(0n);
      expect(out.timedOut).toBeUndefined();
    });
  });

  it('uses identical gas across runs and across both workers', async () => {
    const payload = randomText(50_000, 3);
    const outs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool.refine(refineReq(payload))));
    for (const o of outs) expect(o).toEqual(outs[0]);
  });

  it('runs a PVM service (JAM service blob) in the same executors, checked, with its own engine identity', async () => {
    const pvm = echoService();
    const pvmHash = await hashOf(pvm);
    expect(await pool.check(pvmHash, pvm)).toEqual({ valid: true });
    const payload = Buffer.from('echo through an executor');
    const r = await pool.refine({ ...refineReq(payload), code: pvm, codeHash: pvmHash, packageHash: '0x' + '11'.repeat(32) });
    // 10 instructions, one host call (10) and 1 gas per 4 bytes it copied (24 bytes)
    expect(r).toEqual({ result: { ok: new Uint8Array(payload) }, gasUsed: 26n, logs: [], exports: [], engine: PVM_ENGINE_IDENTITY });
    const spin = spinService();
    const out = await pool.refine({ ...refineReq(new Uint8Array(0)), code: spin, codeHash: await hashOf(spin), gasLimit: 100_000n });
    expect(out).toEqual({ result: { out_of_gas: null }, gasUsed: 100_000n, logs: [], exports: [], engine: PVM_ENGINE_IDENTITY });
    const bad = Uint8Array.from([...pvm, 0]);
    expect(await pool.check(await hashOf(bad), bad)).toEqual({
      valid: false,
      reason: 'neither a WebAssembly module (no \\0asm magic) nor a valid JAM service blob: 1 bytes after the code blob',
      category: 'code',
    });
    expect((await pool.refine({ ...refineReq(new Uint8Array(0)), code: bad, codeHash: await hashOf(bad) })).result).toEqual({ bad_code: null });
    // the Wasm service still runs on the same executors afterwards
    expect((await pool.refine(refineReq(Buffer.from('a b')))).result).toEqual({ ok: u64le(2n) });
  });

  it('ends an infinite loop out_of_gas with gasUsed == gasLimit, then serves the next job', async () => {
    const loop = serviceModule({ refineBody: [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b] });
    const out = await pool.refine({ ...refineReq(new Uint8Array(0)), code: loop, codeHash: await hashOf(loop), gasLimit: 20_000_000n });
    expect(out).toEqual({
      result: { out_of_gas: null },
      gasUsed: 20_000_000n,
      logs: [],
      engine: ENGINE_IDENTITY,
      trap: expect.objectContaining({ kind: 'out_of_gas' }),
      exports: [],
    });
    const next = await pool.refine(refineReq(Buffer.from('still here')));
    expect(next.result).toEqual({ ok: u64le(2n) });
  });

  it('stops deep recursion with big frames at the deterministic depth limit, not the native stack', async () => {
    // f() { local.set 1023 (i64.const 1); f() } with 1024 i64 locals; refine calls f
    const rec = serviceModule({
      refineBody: [0x10, 0x02, 0x42, 0x00, 0x0b],
      extraTypes: [[[], []]],
      extraFuncs: [{ type: 4, locals: [[1024, 0x7e]], body: [0x42, 0x01, 0x21, 0xff, 0x07, 0x10, 0x02, 0x0b] }],
    });
    const req = { ...refineReq(new Uint8Array(0)), code: rec, codeHash: await hashOf(rec), gasLimit: 1_000_000_000n };
    const [a, b] = await Promise.all([pool.refine(req), pool.refine(req)]);
    expect(a.result).toEqual({ panic: null });
    expect(a.gasUsed).toBeLessThan(req.gasLimit);
    expect(b).toEqual(a);
  });

  it('maps a guest trap to panic', async () => {
    const trap = serviceModule({ refineBody: [0x00, 0x0b] });
    const out = await pool.refine({ ...refineReq(new Uint8Array(0)), code: trap, codeHash: await hashOf(trap) });
    expect(out.result).toEqual({ panic: null });
  });

  it('maps code failing validation to bad_code and a missing export to bad_exports', async () => {
    const float = serviceModule({ refineBody: [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, 0x42, 0x00, 0x0b] });
    expect((await pool.refine({ ...refineReq(new Uint8Array(0)), code: float, codeHash: await hashOf(float) })).result).toEqual({ bad_code: null });
    const noRefine = serviceModule({ refineBody: [0x42, 0x00, 0x0b], omitExport: 'refine' });
    expect((await pool.refine({ ...refineReq(new Uint8Array(0)), code: noRefine, codeHash: await hashOf(noRefine) })).result).toEqual({ bad_exports: null });
  });

  it('rejects a request whose code does not match its code hash', async () => {
    await expect(pool.refine({ ...refineReq(new Uint8Array(0)), codeHash: '0x' + '00'.repeat(32) })).rejects.toThrow(/code hash mismatch/);
  });

  describe('word-count accumulate', () => {
    const op = (result: AccumulateOperand['result']): AccumulateOperand => ({ packageHash: '0x01', payloadHash: '0x02', result });
    const key = (s: string) => new Uint8Array(Buffer.from(s));
    const QUOTA = { maxBytes: 1024, maxItems: 16 };

    it('adds ok 8-byte outputs to "words", counts them in "items", skips the rest', async () => {
      const out = await pool.accumulate({
        codeHash,
        code,
        serviceId: 7,
        gasLimit: 10_000_000n,
        operands: [op({ ok: u64le(5n) }), op({ panic: null }), op({ ok: new Uint8Array(3) }), op({ ok: u64le(11n) }), op({ out_of_gas: null })],
        storage: new Map([['0x' + Buffer.from('words').toString('hex'), u64le(100n)]]),
        storageQuota: QUOTA,
      });
      expect(out.status).toBe('ok');
      expect(out.writes).toEqual([
        { key: key('items'), value: u64le(2n) },
        { key: key('words'), value: u64le(116n) },
      ]);
    });

    it('writes nothing when no operand counts', async () => {
      const out = await pool.accumulate({
        codeHash,
        code,
        serviceId: 7,
        gasLimit: 10_000_000n,
        operands: [op({ panic: null })],
        storage: new Map(),
        storageQuota: QUOTA,
      });
      expect(out).toEqual({ status: 'ok', gasUsed: out.gasUsed, writes: [], logs: [] });
    });

    it('runs out of gas deterministically with no writes', async () => {
      const out = await pool.accumulate({
        codeHash,
        code,
        serviceId: 7,
        gasLimit: 150n,
        operands: [op({ ok: u64le(5n) })],
        storage: new Map(),
        storageQuota: QUOTA,
      });
      expect(out).toEqual({ status: 'out_of_gas', gasUsed: 150n, writes: [], logs: [], trap: expect.objectContaining({ kind: 'out_of_gas' }) });
    });
  });

  it('gives the free executor to the waiting call of the lowest priority number, FIFO within one (docs/fairness.md)', async () => {
    const QUOTA = { maxBytes: 1024, maxItems: 16 };
    const one = new SandboxPool({ size: 1, wallClockMs: 30_000 });
    await one.start();
    try {
      // One executor: tenant A's first call takes it at once; A's backlog (priorities 2, 3, 3), a
      // quiet tenant B's calls (priority 1) and an unprioritized call queue behind it.
      const order: string[] = [];
      const calls: Array<[string, number | undefined]> = [
        ['a-1', 1],
        ['a-2', 2],
        ['a-3', 3],
        ['a-4', 3],
        ['b-1', 1],
        ['b-2', 1],
        ['none', undefined],
      ];
      const runs = calls.map(([label, priority], i) => {
        const payload = Buffer.from(`${label} `.repeat(i + 1));
        const call = label.startsWith('b')
          ? one.accumulate(
              {
                codeHash,
                code,
                serviceId: 7,
                gasLimit: 100_000_000n,
                operands: [{ packageHash: '0x01', payloadHash: '0x02', result: { ok: u64le(BigInt(i)) } }],
                storage: new Map(),
                storageQuota: QUOTA,
              },
              priority === undefined ? {} : { priority },
            )
          : one.refine(refineReq(payload), priority === undefined ? {} : { priority });
        return call.then((out) => {
          order.push(label);
          return out;
        });
      });
      const outs = await Promise.all(runs);
      expect(order).toEqual(['a-1', 'none', 'b-1', 'b-2', 'a-2', 'a-3', 'a-4']);
      // Reordering changes nothing in the results.
      expect((outs[1] as { result: unknown }).result).toEqual({ ok: u64le(2n) });
      expect((outs[4] as { status: string }).status).toBe('ok');
    } finally {
      await one.close();
    }
  });

  it('runs short calls on the express executor while a long call holds the general one, and never a long call there', async () => {
    const lanes = new SandboxPool({ size: 1, expressSize: 1, wallClockMs: 120_000 });
    await lanes.start();
    try {
      expect(lanes.executorPids()).toHaveLength(2);
      const loop = serviceModule({ refineBody: [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b] });
      const loopHash = await hashOf(loop);
      const order: string[] = [];
      const track = <T>(label: string, p: Promise<T>): Promise<T> => p.then((out) => (order.push(label), out));
      // long-1 takes the general executor; long-2 (ten times shorter) must wait for it rather than
      // take the idle express executor, so it ends after long-1; the short calls do not wait.
      const long1 = track(
        'long-1',
        lanes.refine({ ...refineReq(new Uint8Array(0)), code: loop, codeHash: loopHash, gasLimit: 2_000_000_000n }, { priority: 1 }),
      );
      const long2 = track('long-2', lanes.refine({ ...refineReq(new Uint8Array(0)), code: loop, codeHash: loopHash, gasLimit: 200_000_000n }, { priority: 1 }));
      const short = track('short', lanes.refine(refineReq(Buffer.from('one two three'), { gasLimit: SHORT_CALL_GAS }), { priority: 9 }));
      const accumulate = track(
        'accumulate',
        lanes.accumulate(
          { codeHash, code, serviceId: 7, gasLimit: 1_000_000n, operands: [], storage: new Map(), storageQuota: { maxBytes: 1024, maxItems: 16 } },
          { priority: 9 },
        ),
      );
      const [l1, l2, s] = await Promise.all([long1, long2, short, accumulate]);
      expect(order.indexOf('long-2')).toBe(3);
      expect(order.indexOf('long-1')).toBe(2);
      expect(l1).toEqual({
        result: { out_of_gas: null },
        gasUsed: 2_000_000_000n,
        logs: [],
        engine: ENGINE_IDENTITY,
        trap: expect.objectContaining({ kind: 'out_of_gas' }),
        exports: [],
      });
      expect(l2).toEqual({
        result: { out_of_gas: null },
        gasUsed: 200_000_000n,
        logs: [],
        engine: ENGINE_IDENTITY,
        trap: expect.objectContaining({ kind: 'out_of_gas' }),
        exports: [],
      });
      expect(s.result).toEqual({ ok: u64le(3n) });
    } finally {
      await lanes.close();
    }
  });

  it('runs every thread of a general executor at generalNice above this process, express executors at its own (docs/fairness.md)', async () => {
    /** Nice value of every thread of `pid` (field 19 of /proc/<pid>/task/<tid>/stat). */
    const threadNices = (pid: number): number[] =>
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const own = getPriority();
    const niced = new SandboxPool({ size: 1, expressSize: 1, wallClockMs: 60_000, generalNice: 7 });
    await niced.start();
    try {
      expect(niced.niceFallback()).toBeUndefined();
      const [general, express] = niced.executorPids() as [number, number];
      // a long call (general executor) and a short one (express) each run a guest thread first
      const loop = serviceModule({ refineBody: [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b] });
      const loopHash = await hashOf(loop);
      await Promise.all([
        niced.refine({ ...refineReq(new Uint8Array(0)), code: loop, codeHash: loopHash, gasLimit: 50_000_000n }),
        niced.refine(refineReq(Buffer.from('one two'), { gasLimit: SHORT_CALL_GAS })),
      ]);
      expect(new Set(threadNices(general))).toEqual(new Set([Math.min(19, own + 7)]));
      expect(new Set(threadNices(express))).toEqual(new Set([own]));
    } finally {
      await niced.close();
    }
    expect(() => new SandboxPool({ generalNice: 20 })).toThrow(RangeError);
    expect(() => new SandboxPool({ generalNice: -1 })).toThrow(RangeError);
  });

  it('kills a worker past the wall clock, answers panic + timedOut, and keeps serving', async () => {
    const small = new SandboxPool({ size: 1, wallClockMs: 300 });
    await small.start();
    try {
      const loop = serviceModule({ refineBody: [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b] });
      const out = await small.refine({ ...refineReq(new Uint8Array(0)), code: loop, codeHash: await hashOf(loop), gasLimit: (1n << 63n) - 1n });
      expect(out.result).toEqual({ panic: null });
      expect(out.timedOut).toBe(true);
      // The replacement serves. Its first job (cold executor, compile) fits the short wall clock on
      // an idle machine; a busy one may stretch it past it, which is again a timedOut answer from a
      // freshly replaced executor: retried, each try being new work, until one lands.
      let next = await small.refine(refineReq(Buffer.from('a b c')));
      for (let i = 0; i < 50 && next.timedOut === true; i++) next = await small.refine(refineReq(Buffer.from('a b c')));
      expect(next.result).toEqual({ ok: u64le(3n) });
    } finally {
      await small.close();
    }
  });
});
