import { CHAIN_BUDGET_SLOTS, planCallDepth } from './call-graph';
import { FRAME_OVERHEAD_SLOTS, MAX_CALL_DEPTH, missSurcharge } from './cost-table';
import { meterServiceCode } from './service-code.validator';
import { parseServiceModule } from './service-module.parser';
import type { RefineOutcome } from './sandbox.types';
import { executeRefine } from './service.executor';

interface Wabt {
  parseWat(name: string, text: string, features: Record<string, boolean>): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void };
}
let wabt: Promise<Wabt> | undefined;
async function wat(text: string): Promise<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  wabt ??= (require('wabt') as () => Promise<Wabt>)();
  const m = (await wabt).parseWat('inline.wat', text, { bulk_memory: true, multi_value: true });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/** A module with the given functions and a refine whose body is `refine`; accumulate returns 0. */
function mod(funcs: string, refine: string, extra = ''): Promise<Uint8Array> {
  return wat(`(module (memory (export "memory") 1) ${extra} ${funcs}
    (func (export "refine") (param i32 i32) (result i64) ${refine})
    (func (export "accumulate") (param i32) (result i64) (i64.const 0)))`);
}

function run(code: Uint8Array, gasLimit = 1n << 40n): RefineOutcome {
  return executeRefine(new WebAssembly.Module(meterServiceCode(code)), { itemIndex: 0, payload: new Uint8Array(0), gasLimit, preimages: new Map() });
}

const OK = { ok: new Uint8Array(0) };

describe('planCallDepth: which functions count call depth', () => {
  it('counts recursive and table functions only', async () => {
    const code = await mod(
      `(table 1 funcref) (elem (i32.const 0) $t)
       (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
       (func $self (param i32) (result i32) (if (result i32) (local.get 0) (then (call $self (i32.sub (local.get 0) (i32.const 1)))) (else (call $leaf (i32.const 0)))))
       (func $a (param i32) (result i32) (if (result i32) (local.get 0) (then (call $b (local.get 0))) (else (i32.const 0))))
       (func $b (param i32) (result i32) (call $a (i32.sub (local.get 0) (i32.const 1))))
       (func $t (result i32) (i32.const 7))`,
      '(i64.const 0)',
    );
    const plan = planCallDepth(parseServiceModule(code));
    // $leaf $self $a $b $t refine accumulate
    expect(plan.counted).toEqual([false, true, true, true, true, false, false]);
    for (const w of plan.chainSlots) expect(w).toBeLessThanOrEqual(CHAIN_BUDGET_SLOTS);
  });

  it('counts the heaviest callees of a chain that would outweigh one maximal frame', async () => {
    // $f0 -> $f1 -> ... -> $f4, each with 600 locals: 3 of them (plus overhead) exceed the budget
    const funcs = Array.from({ length: 5 }, (_, k) => `(func $f${k} (local ${'i64 '.repeat(600)}) ${k < 4 ? `(call $f${k + 1})` : ''})`).join('\n');
    const code = await mod(funcs, '(call $f0) (i64.const 0)');
    const plan = planCallDepth(parseServiceModule(code));
    const own = 600 + FRAME_OVERHEAD_SLOTS;
    // callees first: f4 = own, f3 = 2 own, f2 = 3 own (1992 <= 2112); f1 would be 4 own > budget,
    // so its heaviest uncounted callee f2 becomes counted (its own chain stays 3 own) and f1 = own
    expect(3 * own).toBeLessThanOrEqual(CHAIN_BUDGET_SLOTS);
    expect(4 * own).toBeGreaterThan(CHAIN_BUDGET_SLOTS);
    expect(plan.counted.slice(0, 5)).toEqual([false, false, true, false, false]);
    expect(plan.chainSlots.slice(0, 5)).toEqual([2 * own, own, 3 * own, 2 * own, own]);
    for (const w of plan.chainSlots) expect(w).toBeLessThanOrEqual(CHAIN_BUDGET_SLOTS);
  });
});

describe('metered call depth (cost table v2)', () => {
  it('counts only the recursive frames: a non-recursive helper between refine and the recursion is free', async () => {
    const code = (n: number) =>
      mod(
        `(func $r (param i32) (result i32) (if (result i32) (local.get 0) (then (call $r (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0))))
         (func $h (param i32) (result i32) (call $r (local.get 0)))`,
        `(drop (call $h (i32.const ${n}))) (i64.const 0)`,
      );
    // r(n) makes n + 1 frames of $r
    expect(run(await code(MAX_CALL_DEPTH - 1)).result).toEqual(OK);
    expect(run(await code(MAX_CALL_DEPTH)).result).toEqual({ panic: null });
  });

  it('restores the depth on every way out: return, br to the function label, br_if taken and not taken, br_table, end', async () => {
    // $f(n): n == 0 -> br_if out; n == 1 -> return; n == 2 -> br_table to the function label; else recurse
    // (several exits on the way back up). refine runs f(1023) three times: a leak of one level per
    // frame would make the second run panic.
    const code = await mod(
      `(func $f (param i32) (result i32)
         (block $b (result i32)
           (drop (br_if 1 (i32.const 0) (i32.eqz (local.get 0))))
           (if (i32.eq (local.get 0) (i32.const 1)) (then (return (i32.const 1))))
           (if (i32.eq (local.get 0) (i32.const 2)) (then (br_table 2 2 (i32.const 2) (i32.const 0))))
           (br_if $b (call $f (i32.sub (local.get 0) (i32.const 1))) (i32.eqz (i32.and (local.get 0) (i32.const 1))))
           (drop)
           (i32.const 5)))`,
      `(drop (call $f (i32.const ${MAX_CALL_DEPTH - 1}))) (drop (call $f (i32.const ${MAX_CALL_DEPTH - 1}))) (drop (call $f (i32.const ${MAX_CALL_DEPTH - 1}))) (i64.const 0)`,
    );
    const a = run(code);
    expect(a.result).toEqual(OK);
    expect(run(code)).toEqual(a);
  });

  it('counts call_indirect targets, and functions with several results', async () => {
    const code = (n: number) =>
      mod(
        `(type $t (func (param i32) (result i32 i32)))
         (table 1 funcref) (elem (i32.const 0) $f)
         (func $f (param i32) (result i32 i32)
           (if (result i32 i32) (local.get 0)
             (then (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))
             (else (i32.const 1) (i32.const 2))))`,
        `(call $f (i32.const ${n})) (drop) (drop) (i64.const 0)`,
      );
    expect(run(await code(MAX_CALL_DEPTH - 1)).result).toEqual(OK);
    expect(run(await code(MAX_CALL_DEPTH)).result).toEqual({ panic: null });
  });

  it('threads the counter through call_indirect to a host import in the table (threaded wrapper)', async () => {
    const code = await wat(`(module (type $g (func (result i64))) (import "jam" "gas" (func $gas (type $g)))
      (memory (export "memory") 1) (table 1 funcref) (elem (i32.const 0) $gas)
      (func (export "refine") (param i32 i32) (result i64) (i64.store (i32.const 0) (call_indirect (type $g) (i32.const 0))) (i64.const 8))
      (func (export "accumulate") (param i32) (result i64) (i64.const 0)))`);
    const a = run(code, 10_000n);
    expect(run(code, 10_000n)).toEqual(a);
    const ok = a.result as { ok: Uint8Array };
    // the host saw the counter the guest passed in: the limit minus the instantiation (cost table
    // v4: a 1-element table and 1 element entry, 2 x 256), refine's first block (i32.const,
    // i32.const, call_indirect = 1 + 1 + 8) and the host call's own 400; then i64.store,
    // i64.const, end (2 + 1 + 1) reach the host through the export wrapper, with the store's miss
    // surcharge (cost table v5: the first store's page, far on a 1-page memory)
    const left = Buffer.from(ok.ok).readBigInt64LE(0);
    expect(left).toBe(10_000n - 512n - 10n - 400n);
    expect(a.gasUsed).toBe(512n + 10n + 400n + 4n + missSurcharge(1).far);
  });

  it('a trap on something else reports the gas at the last write-back (v2: none before a guest call)', async () => {
    // refine: [call $leaf] charged 4, $leaf charged 2, then the out-of-bounds load traps. v1 wrote
    // the counter back before the call (gasUsed 4); v2 passes it in a register, and nothing was
    // written back since the host set it, so gasUsed is 0. Deterministic either way.
    const code = await mod('(func $leaf (result i32) (i32.const -8))', '(i64.load (call $leaf))');
    expect(run(code, 1000n)).toEqual({
      result: { panic: null },
      gasUsed: 0n,
      logs: [],
      trap: expect.objectContaining({ kind: 'memory_out_of_bounds', message: 'memory access out of bounds' }),
      exports: [],
    });
  });

  it('charges a block-started region together with the code before it: same total gas', async () => {
    // v1: [i32.const, drop, block] 3 + [i32.const, drop, end] 3 + [i64.const, end] 2 = 8
    // v2: [i32.const, drop, block, i32.const, drop, end] 6 + [i64.const, end] 2 = 8
    const code = await mod('', '(drop (i32.const 1)) (block (drop (i32.const 2))) (i64.const 0)');
    expect(run(code, 1000n)).toEqual({ result: OK, gasUsed: 8n, logs: [], exports: [] });
  });
});
