import { DomainError } from '@jam/domain';
import { serviceModule } from '../test/wasm-module.builder';
import { codeRejectionResult } from './code-rejection';
import { meterServiceCode, validateServiceCode } from './service-code.validator';

/** What the executor's compile path reports for `code`: the result, or what it rethrows. */
function compileVerdict(code: Uint8Array): unknown {
  try {
    meterServiceCode(code);
    return 'compiles';
  } catch (e) {
    try {
      return codeRejectionResult(e);
    } catch (thrown) {
      return thrown;
    }
  }
}

describe('codeRejectionResult (the executor compile path: only the validator decides bad_code)', () => {
  it('maps the validator verdict by category: exports -> bad_exports, size -> code_oversize, else bad_code', () => {
    expect(codeRejectionResult(new DomainError('invalid_code', 'missing export: refine', { category: 'exports' }))).toEqual({ bad_exports: null });
    expect(codeRejectionResult(new DomainError('invalid_code', 'too big', { category: 'size' }))).toEqual({ code_oversize: null });
    expect(codeRejectionResult(new DomainError('invalid_code', 'float instruction', { category: 'code' }))).toEqual({ bad_code: null });
    expect(compileVerdict(new Uint8Array([1, 2, 3]))).toEqual({ bad_code: null });
    expect(compileVerdict(new Uint8Array(4_000_001))).toEqual({ code_oversize: null });
    expect(compileVerdict(serviceModule({ refineBody: [0x42, 0x00, 0x0b] }))).toBe('compiles');
  });

  it('rethrows anything else: engine faults and other domain errors are failures, not results', () => {
    const oom = new RangeError('WebAssembly.Module(): Out of memory');
    expect(() => codeRejectionResult(oom)).toThrow(oom);
    let compileError: unknown;
    try {
      new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff]));
    } catch (e) {
      compileError = e;
    }
    expect(compileError).toBeInstanceOf(Error);
    expect(() => codeRejectionResult(compileError)).toThrow(compileError as Error);
    expect(() => codeRejectionResult(new DomainError('not_found', 'no blob'))).toThrow('no blob');
    expect(() => codeRejectionResult('a string')).toThrow();
  });

  it('an engine failure inside validation propagates instead of becoming "malformed module" (bad_code)', () => {
    const spy = jest.spyOn(WebAssembly, 'validate').mockImplementation(() => {
      throw new RangeError('Out of memory');
    });
    try {
      expect(() => validateServiceCode(serviceModule({ refineBody: [0x42, 0x00, 0x0b] }))).toThrow(RangeError);
      expect(compileVerdict(serviceModule({ refineBody: [0x42, 0x00, 0x0b] }))).toBeInstanceOf(RangeError);
    } finally {
      spy.mockRestore();
    }
  });
});
