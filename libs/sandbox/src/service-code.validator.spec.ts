import { readFileSync } from 'node:fs';
import { DomainError } from '@jam/domain';
import { serviceModule, T } from '../test/wasm-module.builder';
import { exampleServicePath } from './example-services';
import { HOST_CALLS } from './host-calls/host-call.registry';
import { meterServiceCode, validateServiceCode } from './service-code.validator';

function rejection(code: Uint8Array): DomainError {
  try {
    validateServiceCode(code);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('module was accepted');
}

const RETURN_0 = [0x42, 0x00, 0x0b];

describe('validateServiceCode', () => {
  it('accepts the built word-count service and a minimal service', () => {
    expect(() => validateServiceCode(readFileSync(exampleServicePath('word-count')))).not.toThrow();
    expect(() => validateServiceCode(serviceModule({ refineBody: RETURN_0 }))).not.toThrow();
  });

  it('rejects malformed bytes', () => {
    const e = rejection(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff]));
    expect(e.code).toBe('invalid_code');
    expect(e.message).toBe('malformed module: not a valid WebAssembly binary');
    expect(e.details).toEqual({ reason: e.message, category: 'code' });
    // no \0asm magic: read as a JAM service blob (the PVM engine's format), which it is not either
    expect(rejection(new Uint8Array([1, 2, 3])).message).toMatch(/^neither a WebAssembly module \(no \\0asm magic\) nor a valid JAM service blob: /);
  });

  it('refuses more than 16,000 defined functions (TurboFan compiles each before the first job; docs/sandbox.md "Executor flags")', () => {
    const empty = { type: 3, body: [0x0b] };
    const at = serviceModule({ refineBody: RETURN_0, extraFuncs: Array.from({ length: 16_000 - 2 }, () => empty) });
    expect(() => validateServiceCode(at)).not.toThrow();
    const over = serviceModule({ refineBody: RETURN_0, extraFuncs: Array.from({ length: 16_000 - 1 }, () => empty) });
    const e = rejection(over);
    expect(e.code).toBe('invalid_code');
    expect(e.message).toBe('module defines 16001 functions, over the limit of 16000');
  });

  it('rejects code over 4,000,000 bytes (GP W_C)', () => {
    const e = rejection(new Uint8Array(4_000_001));
    expect(e.message).toBe('code is 4000001 bytes, over the 4000000-byte limit (GP W_C)');
    expect(e.details?.['category']).toBe('size');
  });

  it('rejects a float instruction', () => {
    // f64.const 1.0; drop; i64.const 0
    const body = [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1a, ...RETURN_0];
    expect(rejection(serviceModule({ refineBody: body })).message).toBe('float instruction 0x44 in function 0');
  });

  it('rejects float locals', () => {
    expect(rejection(serviceModule({ refineBody: RETURN_0, refineLocals: [[1, T.f64]] })).message).toBe('float value type in locals of function 0');
  });

  it('rejects a WASI import', () => {
    const e = rejection(serviceModule({ refineBody: RETURN_0, imports: [{ module: 'wasi_snapshot_preview1', name: 'proc_exit', type: 1 }] }));
    expect(e.message).toBe('import outside "jam": wasi_snapshot_preview1.proc_exit');
  });

  it('rejects an unknown host function and a wrong host signature', () => {
    expect(rejection(serviceModule({ refineBody: RETURN_0, imports: [{ module: 'jam', name: 'clock', type: 2 }] })).message).toBe(
      'unknown host function: jam.clock',
    );
    expect(rejection(serviceModule({ refineBody: RETURN_0, imports: [{ module: 'jam', name: 'gas', type: 1 }] })).message).toBe(
      'wrong signature for host function jam.gas',
    );
  });

  it('accepts every host call of the registry with its own signature, and no inherited name', () => {
    for (const [name, call] of Object.entries(HOST_CALLS)) {
      const code = serviceModule({ refineBody: RETURN_0, extraTypes: [[[...call.params], [...call.results]]], imports: [{ module: 'jam', name, type: 4 }] });
      expect(() => validateServiceCode(code)).not.toThrow();
    }
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(rejection(serviceModule({ refineBody: RETURN_0, imports: [{ module: 'jam', name, type: 2 }] })).message).toBe(
        `unknown host function: jam.${name}`,
      );
    }
  });

  it('rejects a start function', () => {
    expect(rejection(serviceModule({ refineBody: RETURN_0, start: true })).message).toBe('start function not allowed');
  });

  it('rejects missing exports with category exports', () => {
    for (const name of ['memory', 'refine', 'accumulate']) {
      const e = rejection(serviceModule({ refineBody: RETURN_0, omitExport: name }));
      expect(e.message).toBe(`missing export: ${name}`);
      expect(e.details?.['category']).toBe('exports');
    }
  });

  it('rejects shared memory and SIMD', () => {
    expect(rejection(serviceModule({ refineBody: RETURN_0, memory: { min: 1, max: 1, shared: true } })).message).toBe('shared memory');
    // v128.const 0; drop
    const simd = [0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, ...RETURN_0];
    expect(rejection(serviceModule({ refineBody: simd })).message).toBe('unsupported opcode 0xfd in function 0');
  });

  it('rejects a memory minimum over the cap and rewrites the maximum to the cap', () => {
    expect(rejection(serviceModule({ refineBody: RETURN_0, memory: { min: 2000 } })).message).toBe(
      'memory minimum of 2000 pages exceeds the cap of 1024 pages',
    );
    const metered = meterServiceCode(serviceModule({ refineBody: RETURN_0, memory: { min: 1 } }), { memoryPagesCap: 7 });
    // memory section: id 5, size, count 1, flags 1, min 1, max 7
    const at = Buffer.from(metered).indexOf(Buffer.from([0x05, 0x04, 0x01, 0x01, 0x01, 0x07]));
    expect(at).toBeGreaterThan(0);
  });
});
