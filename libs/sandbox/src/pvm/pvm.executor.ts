/**
 * Runs the entry points of a PVM service (a JAM service blob) in an executor's guest thread, the
 * PVM counterpart of service.executor.ts (docs/service-abi.md, "PVM services").
 *
 * Refine host calls: refine/refine-host-calls.ts (the GP 0.7.2 refine set). Accumulate host calls:
 * accumulate/accumulate-job.ts (the GP 0.7.2 accumulate set the product can answer). Each costs
 * PVM_HOST_CALL_GAS = 10 gas first; an unknown call answers ω7 = WHAT and the program continues
 * (GP 0.7.2 appendix B).
 */
import { DomainError, GpWriter } from '@jam/domain';
import { MAX_REFINE_OUTPUT_BYTES, MAX_SERVICE_CODE_BYTES } from '../host-abi';
import { MAX_GAS_LIMIT, type AccumulateOutcome, type RefineOutcome } from '../sandbox.types';
import type { AccumulateJob, RefineJob } from '../service.executor';
import { decodeServiceBlob, PvmProgramRejection, PVM_REFINE_ENTRY, type PvmServiceBlob } from './pvm-program';
import { PVM_PRODUCT_ENGINE, runPvm, type PvmMemoryView, type PvmRunResult } from './pvm.machine';
import { executeGpAccumulateJob } from './accumulate/accumulate-job';
import { finishPvmLogs } from './pvm-log';
import { pvmRefineState, refineHostCalls } from './refine/refine-host-calls';

/** A PVM service's code, decoded and validated once per executor (cached like a compiled Wasm module). */
export interface PvmServiceCode {
  engine: 'pvm';
  bytes: Uint8Array;
  service: PvmServiceBlob;
}

/**
 * Decodes and validates a JAM service blob for the PVM engine (docs/service-abi.md, "PVM
 * services"): at most MAX_SERVICE_CODE_BYTES (GP W_C), metadata + standard program whose memory
 * layout fits, code blob with a valid jump table and bitmask.
 * @throws DomainError('invalid_code', reason, { reason, category }) with category `size` or `code`
 */
export function preparePvmService(code: Uint8Array): PvmServiceCode {
  if (code.length > MAX_SERVICE_CODE_BYTES) {
    const reason = `code is ${code.length} bytes, over the ${MAX_SERVICE_CODE_BYTES}-byte limit (GP W_C)`;
    throw new DomainError('invalid_code', reason, { reason, category: 'size' });
  }
  try {
    return { engine: 'pvm', bytes: code, service: decodeServiceBlob(code) };
  } catch (e) {
    if (!(e instanceof PvmProgramRejection)) throw e;
    const reason = `neither a WebAssembly module (no \\0asm magic) nor a valid JAM service blob: ${e.reason}`;
    throw new DomainError('invalid_code', reason, { reason, category: 'code' });
  }
}

function clampGas(limit: bigint): bigint {
  return limit < 0n ? 0n : limit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : limit;
}

/**
 * Runs `refine` of a PVM service: the standard program at pc 0 with the GP 0.7.2 refine
 * arguments E(c, i, s, ↕y, H(p)) (core 0, item index, service id, the payload with its compact
 * length, package hash; until engine 0.2.0 only |y| was passed, and jam-pvm-build services could
 * not decode it)
 * and the job's gas, answering the GP refine host calls (refine/refine-host-calls.ts). Halt: the
 * output is μ[ω7 .. ω7 + ω8] (panic when unreadable, `oversize` over MAX_REFINE_OUTPUT_BYTES); out
 * of gas: `out_of_gas`; panic or page fault: `panic`. `exports`: the segments `export` appended,
 * W_G bytes each, whatever the result (the refine worker keeps them only for `ok`).
 * Deterministic: same code and job give the same outcome and gas.
 * @throws only when the interpreter itself fails (an engine fault, never a guest result)
 */
export function executePvmRefine(code: PvmServiceCode, job: RefineJob): RefineOutcome {
  const w = new GpWriter();
  w.compact(0, 'core');
  w.compact(job.itemIndex, 'item');
  w.compact(job.serviceId ?? 0, 'service');
  w.blob(job.payload, 'payload');
  w.bytes(job.packageHash ?? new Uint8Array(32));
  const state = pvmRefineState(job);
  const limit = clampGas(job.gasLimit);
  return runPvm(
    { kind: 'service', bytes: code.bytes, blob: code.service.program.blob, pc: PVM_REFINE_ENTRY, args: w.finish() },
    limit,
    refineHostCalls(state),
    (r: PvmRunResult, m: PvmMemoryView): RefineOutcome => {
      const gasUsed = limit - r.gasLeft;
      const logs = finishPvmLogs(state);
      const exports = state.exports;
      if (r.exit === 'out-of-gas') return { result: { out_of_gas: null }, gasUsed: limit, logs, exports };
      if (r.exit !== 'halt') return { result: { panic: null }, gasUsed, logs, exports };
      const ptr = r.registers[7]!;
      const len = r.registers[8]!;
      if (len > BigInt(MAX_REFINE_OUTPUT_BYTES)) return { result: { oversize: null }, gasUsed, logs, exports };
      if (ptr + len > 1n << 32n) return { result: { panic: null }, gasUsed, logs, exports };
      const out = len === 0n ? new Uint8Array(0) : m.readMemory(Number(ptr), Number(len));
      if (out === null) return { result: { panic: null }, gasUsed, logs, exports };
      return { result: { ok: out }, gasUsed, logs, exports };
    },
    PVM_PRODUCT_ENGINE,
  );
}

/**
 * Runs `accumulate` of a PVM service with the GP 0.7.2 accumulate host calls the product can
 * answer (`executeGpAccumulateJob`, libs/sandbox/src/pvm/accumulate/accumulate-job.ts: `read`,
 * `write`, `fetch` of the operands, `info`, `checkpoint`, `log`, ...): status `ok` with the
 * write-set when the program halts, else `out_of_gas` / `panic` without writes.
 * @throws only on engine faults
 */
export function executePvmAccumulate(code: PvmServiceCode, job: AccumulateJob): AccumulateOutcome {
  return executeGpAccumulateJob(code.bytes, code.service, job);
}
