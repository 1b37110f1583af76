import { DomainError } from '@jam/domain';
import { instrumentServiceCode, type InstrumentOptions } from './gas.instrumenter';
import { ServiceCodeRejection } from './service-module.parser';
import { detectCodeFormat } from './code-format';
import { preparePvmService } from './pvm/pvm.executor';

/**
 * Validates service code at registration against docs/service-abi.md, by its format
 * (`detectCodeFormat`): a JAM service blob is decoded and checked by the PVM engine's rules
 * (`preparePvmService`); a WebAssembly module must be well-formed Wasm MVP
 * (+ sign-extension, memory.copy/fill), at most 4,000,000 bytes (GP W_C), imports only the "jam"
 * host functions with exact signatures, no start function, exactly one non-shared 32-bit memory
 * exported as `memory` with a minimum within the cap, `refine`/`accumulate` exported with the ABI
 * signatures, no float or unknown instructions. It also meters the module and checks the metered
 * module is valid, so code that passes here always runs.
 * @param code module bytes
 * @param options memory cap (64 KiB pages) the executor will use
 * @throws DomainError('invalid_code', reason, { reason, category }) with the exact reason
 */
export function validateServiceCode(code: Uint8Array, options: InstrumentOptions = {}): void {
  if (detectCodeFormat(code) === 'jam-pvm') preparePvmService(code);
  else meterServiceCode(code, options);
}

/**
 * Validates and meters service code (see `validateServiceCode`), returning the metered module bytes.
 * @throws DomainError('invalid_code', reason, { reason, category })
 */
export function meterServiceCode(code: Uint8Array, options: InstrumentOptions = {}): Uint8Array {
  try {
    const metered = instrumentServiceCode(code, options);
    if (!WebAssembly.validate(metered)) throw new ServiceCodeRejection('metering produced an invalid module');
    return metered;
  } catch (e) {
    if (e instanceof ServiceCodeRejection) throw new DomainError('invalid_code', e.reason, { reason: e.reason, category: e.category });
    throw e;
  }
}
