/**
 * Registration work (issue 7, adversarial review of cost table v4): validating and metering a module
 * runs on the gateway at `POST /jam/services` and in every executor on a compile-cache miss, and no
 * gas pays for it, so it must stay linear in the module's size. Each module here is built to hit
 * one lookup that used to scan a list per instruction or per function.
 */
import { validateServiceCode } from '@jam/sandbox';
import { wat2wasm } from './sandbox-test.helpers';

const ENTRY_POINTS = `(func (export "accumulate") (param i32) (result i64) (i64.const 0))`;

/** `count` distinct function types of `bits` params each (the bits of the type index choose i32 or i64), no results. */
function distinctTypes(count: number, bits: number): string {
  return Array.from(
    { length: count },
    (_, i) => `(type (func (param ${Array.from({ length: bits }, (_, b) => ((i >> b) & 1 ? 'i64' : 'i32')).join(' ')})))`,
  ).join('\n');
}

describe('registration work stays linear in the module size', () => {
  // V8's own validation (WebAssembly.validate at registration, compilation in every executor)
  // grows about quadratically with the number of distinct function types: 1,024 took 21 ms,
  // 4,096 0.47 s, 16,384 6.4 s (this module), so a 4 MB module of 200,000 types would block the
  // gateway for many minutes and time out in every executor. The cap is checked before V8 sees the module.
  it('a module of 16,384 distinct function types is rejected at registration (cap 1,024)', async () => {
    const code = await wat2wasm(`(module ${distinctTypes(16_384, 14)} (memory (export "memory") 1)
      (func (export "refine") (param i32 i32) (result i64) (i64.const 0)) ${ENTRY_POINTS})`);
    expect(() => validateServiceCode(code)).toThrow(expect.objectContaining({ code: 'invalid_code', message: '16386 types exceed the cap of 1024 types' }));
  });

  it('1,024 distinct function types (the cap) are accepted', async () => {
    const code = await wat2wasm(`(module ${distinctTypes(1_022, 10)} (memory (export "memory") 1)
      (func (export "refine") (param i32 i32) (result i64) (i64.const 0)) ${ENTRY_POINTS})`);
    expect(() => validateServiceCode(code)).not.toThrow();
  });

  // Metering threads the gas counter through every `call_indirect`, so it looks up the threaded
  // version of each one's type. Found by scanning the type list, that was types x call_indirects
  // signature comparisons: 1,024 types and 10,000 call_indirects (53 kB) took 1.7 s, so this
  // module (0.9 MB, 2.3e8 comparisons) about 40 s and a 4 MB one minutes, on the gateway's event
  // loop. By signature map it is linear (about 1.5 s here on a loaded machine); the timeout is
  // the generous bound of a linear pass, not a measurement.
  it('1,022 distinct types and 225,000 call_indirect instructions are validated and metered', async () => {
    const calls = Array.from({ length: 225_000 }, () => 'call_indirect (type 1021)').join('\n');
    const code = await wat2wasm(`(module ${distinctTypes(1_022, 10)} (memory (export "memory") 1) (table 1 funcref)
      (func (export "refine") (param i32 i32) (result i64) unreachable ${calls}) ${ENTRY_POINTS})`);
    expect(code.length).toBeGreaterThan(900_000);
    expect(() => validateServiceCode(code)).not.toThrow();
  }, 20_000);
});
