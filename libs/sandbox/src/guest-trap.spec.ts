import { OutOfGas } from './host-calls/host-call';
import { describeTrap, formatTrap, MAX_TRAP_FRAMES, trapFrames, trapKindOf } from './guest-trap';

describe('guest trap detail', () => {
  it('reads the Wasm frames of a V8 stack, innermost first, as decimal function index and byte offset', () => {
    const stack = [
      'RuntimeError: unreachable',
      '    at wasm://wasm/8a1b2c3d:wasm-function[17]:0x4f1',
      '    at $refine (wasm://wasm/8a1b2c3d:wasm-function[21]:0x6a2)',
      '    at run (/app/dist/libs/sandbox/src/service.executor.js:80:31)',
    ].join('\n');
    expect(trapFrames(stack)).toEqual([
      { function: 17, offset: 0x4f1 },
      { function: 21, offset: 0x6a2 },
    ]);
    expect(trapFrames(undefined)).toEqual([]);
    expect(trapFrames('Error: no wasm here')).toEqual([]);
  });

  it(`keeps at most ${MAX_TRAP_FRAMES} frames (a deep recursion does not bloat the report row)`, () => {
    const stack = Array.from({ length: 1000 }, (_, i) => `    at wasm://wasm/x:wasm-function[${i}]:0x${i.toString(16)}`).join('\n');
    const frames = trapFrames(stack);
    expect(frames).toHaveLength(MAX_TRAP_FRAMES);
    expect(frames[0]).toEqual({ function: 0, offset: 0 });
  });

  it.each([
    ['unreachable', 'unreachable'],
    ['memory access out of bounds', 'memory_out_of_bounds'],
    ['divide by zero', 'divide_by_zero'],
    ['remainder by zero', 'divide_by_zero'],
    ['divide result unrepresentable', 'integer_overflow'],
    ['table index is out of bounds', 'indirect_call'],
    ['null function or function signature mismatch', 'indirect_call'],
    ['something new', 'other'],
  ])('V8 message %j is kind %s', (message, kind) => {
    expect(trapKindOf(message)).toBe(kind);
  });

  it('classifies real V8 traps by running them', () => {
    // (module (func (export "f") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u))
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 9, 1, 7, 0, 65, 1, 32, 0, 110, 11,
    ]);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports['f'] as (x: number) => number;
    let caught: unknown;
    try {
      f(0);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(describeTrap(caught, false)).toMatchObject({ kind: 'divide_by_zero', message: (caught as Error).message });
  });

  it('out of gas wins over the error kind: an OutOfGas, or any trap while the counter is negative', () => {
    expect(describeTrap(new OutOfGas(), false)).toMatchObject({ kind: 'out_of_gas', message: 'out of gas' });
    expect(describeTrap(new WebAssembly.RuntimeError('unreachable'), true)).toMatchObject({ kind: 'out_of_gas' });
  });

  it('formats a trap for people', () => {
    expect(
      formatTrap({
        kind: 'unreachable',
        message: 'unreachable',
        frames: [
          { function: 17, offset: 0x4f1 },
          { function: 21, offset: 0x6a2 },
        ],
      }),
    ).toBe('unreachable in function 17 at 0x4f1 (called from function 21 at 0x6a2)');
    expect(formatTrap({ kind: 'nonzero_return', message: 'accumulate returned 1 (only 0 is ok)', frames: [] })).toBe('accumulate returned 1 (only 0 is ok)');
  });
});
