import { DomainError, type WorkExecResult } from '@jam/domain';

/**
 * The refine result of code the executor could not compile (docs/service-abi.md, "At run time,
 * code that fails these rules ..."): only the validator's verdict `DomainError('invalid_code')` is
 * a result, because only it depends on nothing but the code bytes and the engine identity. Its
 * `details.category` picks it: `exports` -> `bad_exports`, `size` -> `code_oversize`, else
 * `bad_code`. Anything else the compile path throws (V8 out of memory, a CompileError the
 * validator did not foresee, a host bug) depends on the machine or the engine build: it is
 * rethrown, the executor answers an error, and the pool rejects with `SandboxExecutorError`
 * (counted, retried, never signed).
 * @param e what validating, metering or compiling threw
 * @returns the WorkExecResult to report for the code
 * @throws e itself when it is not a DomainError with code `invalid_code`
 */
export function codeRejectionResult(e: unknown): WorkExecResult {
  if (!(e instanceof DomainError) || e.code !== 'invalid_code') throw e;
  const category = e.details?.['category'];
  return category === 'exports' ? { bad_exports: null } : category === 'size' ? { code_oversize: null } : { bad_code: null };
}
