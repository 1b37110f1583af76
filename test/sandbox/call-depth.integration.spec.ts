/**
 * The call-depth limit is reached before V8's native stack limit even with the largest frames
 * validation allows (params + locals + operand stack = MAX_FRAME_SLOTS), cold and optimised.
 * Measured (docs/sandbox.md): 1023 such frames overflow a 16 MiB stack under V8's baseline
 * compiler and fit 24 MiB; executors run guest code on a 64 MiB stack. Needs `npm run build`.
 */
import { MAX_CALL_DEPTH, MAX_FRAME_SLOTS, SandboxPool, validateServiceCode } from '@jam/sandbox';
import { refineRequest, wat2wasm } from './sandbox-test.helpers';

/** `f(n)` has 1 param and `locals` i64 locals and keeps `live` values on the operand stack across its recursive call. */
function recursionWat(locals: number, live: number, depth: number): string {
  const decl = Array.from({ length: locals }, () => 'i64').join(' ');
  const inits = Array.from({ length: Math.min(locals, 32) }, (_, k) => `(local.set ${1 + k} (i64.extend_i32_u (i32.add (local.get 0) (i32.const ${k}))))`).join(
    ' ',
  );
  const pushes = Array.from({ length: live }, (_, k) => `(local.get ${1 + (k % locals)})`).join(' ');
  const adds = Array.from({ length: live }, () => 'i64.add').join(' ');
  return `(module (memory (export "memory") 1)
    (func $f (param i32) (result i64) (local ${decl}) ${inits}
      (if (result i64) (i32.eqz (local.get 0)) (then (i64.const 0))
        (else ${pushes} (call $f (i32.sub (local.get 0) (i32.const 1))) ${adds})))
    (func (export "refine") (param i32 i32) (result i64) (drop (call $f (i32.const ${depth}))) (i64.const 0))
    (func (export "accumulate") (param i32) (result i64) (i64.const 0)))`;
}

describe('call depth vs native stack', () => {
  let pool: SandboxPool;
  beforeAll(async () => {
    pool = new SandboxPool({ size: 1 });
    await pool.start();
  });
  afterAll(() => pool.close());

  // shapes at exactly MAX_FRAME_SLOTS: 1 param + locals + (live + 2) operand-stack values
  it.each([
    [1023, MAX_FRAME_SLOTS - 1 - 1023 - 2],
    [1, MAX_FRAME_SLOTS - 1 - 1 - 2],
  ])('%i locals and %i live values: ok at the depth limit, panic one past it, cold and hot', async (locals, live) => {
    const deepest = await wat2wasm(recursionWat(locals, live, MAX_CALL_DEPTH - 1));
    const tooDeep = await wat2wasm(recursionWat(locals, live, MAX_CALL_DEPTH));
    expect(() => validateServiceCode(deepest)).not.toThrow();
    const oneTooBig = await wat2wasm(recursionWat(locals, live + 1, 1));
    expect(() => validateServiceCode(oneTooBig)).toThrow(/frame slots/);
    const okReq = await refineRequest(deepest, new Uint8Array(0), 1n << 40n);
    const panicReq = await refineRequest(tooDeep, new Uint8Array(0), 1n << 40n);
    const first = await pool.refine(okReq);
    const firstPanic = await pool.refine(panicReq);
    expect(first.result).toEqual({ ok: new Uint8Array(0) });
    expect(firstPanic.result).toEqual({ panic: null });
    // hot: V8 tiers the recursive function up; frames change size, the outcome must not
    for (let i = 0; i < 30; i++) {
      expect(await pool.refine(okReq)).toEqual(first);
      expect(await pool.refine(panicReq)).toEqual(firstPanic);
    }
  });
});
