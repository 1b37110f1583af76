/**
 * Runs the entry points of a PVM service (a JAM service blob) in an executor's guest thread, the
 * PVM counterpart of service.executor.ts (docs/service-abi.md, "PVM services").
 *
 * Host calls (GP 0.7.2 appendix B; each costs PVM_HOST_CALL_GAS = 10 gas first):
 * - `gas` (0): ω7 = gas left.
 * - `fetch` (1): selector ω10 = 13 (this work item's payload, ω11 = its index) in refine; every
 *   other selector or item answers NONE (not provided yet). Copies v[f..f+l] to ω7 as GP does
 *   (f = min(ω8, |v|), l = min(ω9, |v| - f)); panic when that memory is not writable.
 * - `log` (100, JIP-1): level ω7, message at ω10 (ω11 bytes), captured like the Wasm `log`
 *   (sanitised, MAX_LOG_LINES lines of MAX_LOG_BYTES bytes); registers unchanged.
 * - anything else: ω7 = WHAT and the program continues (GP 0.7.2 appendix B, an unknown host call).
 */
import { DomainError, GpWriter } from '@jam/domain';
import { HOST_NONE, HOST_WHAT, MAX_LOG_BYTES, MAX_LOG_LINES, MAX_REFINE_OUTPUT_BYTES, MAX_SERVICE_CODE_BYTES } from '../host-abi';
import { sanitizeLog } from '../host-calls/log.host-call';
import { MAX_GAS_LIMIT, type AccumulateOutcome, type RefineOutcome } from '../sandbox.types';
import type { AccumulateJob, RefineJob } from '../service.executor';
import { decodeServiceBlob, PvmProgramRejection, PVM_REFINE_ENTRY, type PvmServiceBlob } from './pvm-program';
import { runPvm, type PvmHostContext, type PvmRunResult } from './pvm.machine';
import type { AnanAs } from './anan-as.binding';
import { executeGpAccumulateJob } from './accumulate/accumulate-job';

/** A PVM service's code, decoded and validated once per executor (cached like a compiled Wasm module). */
export interface PvmServiceCode {
  engine: 'pvm';
  bytes: Uint8Array;
  service: PvmServiceBlob;
}

/** GP 0.7.2 appendix B host-call indices this engine answers. */
export const PVM_HOST_GAS = 0;
export const PVM_HOST_FETCH = 1;
/** JIP-1 `log`. */
export const PVM_HOST_LOG = 100;
/** `fetch` selector for a work item's payload (GP 0.7.2 appendix B, `fetch`, ω10 = 13). */
const FETCH_ITEM_PAYLOAD = 13n;

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

interface HostState {
  payload: Uint8Array;
  itemIndex: number;
  logs: string[];
  droppedLogs: number;
}

function hostCalls(state: HostState): (ctx: PvmHostContext) => void | 'panic' {
  return (ctx) => {
    const r = ctx.registers;
    switch (ctx.index) {
      case PVM_HOST_GAS:
        r[7] = ctx.gasLeft;
        return;
      case PVM_HOST_FETCH: {
        const value = r[10] === FETCH_ITEM_PAYLOAD && r[11] === BigInt(state.itemIndex) ? state.payload : null;
        if (value === null) {
          r[7] = HOST_NONE;
          return;
        }
        const size = BigInt(value.length);
        const f = r[8]! < size ? r[8]! : size;
        const l = r[9]! < size - f ? r[9]! : size - f;
        const out = r[7]!;
        if (l > 0n && (out + l > 1n << 32n || !ctx.write(Number(out), value.subarray(Number(f), Number(f + l))))) return 'panic';
        r[7] = size;
        return;
      }
      case PVM_HOST_LOG: {
        const len = Number(r[11]! > BigInt(MAX_LOG_BYTES + 1) ? BigInt(MAX_LOG_BYTES + 1) : r[11]!);
        if (state.logs.length >= MAX_LOG_LINES) {
          state.droppedLogs++;
          return;
        }
        const cut = len > MAX_LOG_BYTES;
        const bytes = ctx.read(Number(r[10]! & 0xffffffffn), cut ? MAX_LOG_BYTES : len);
        if (bytes !== null) state.logs.push(sanitizeLog(Number(r[7]! & 0xffffffffn), bytes, cut));
        return;
      }
      default:
        r[7] = HOST_WHAT;
    }
  };
}

function finishLogs(state: HostState): string[] {
  if (state.droppedLogs > 0) state.logs.push(`[dropped ${state.droppedLogs} log lines]`);
  return state.logs;
}

/**
 * Runs `refine` of a PVM service: the standard program at pc 0 with the GP 0.7.2 refine
 * arguments E(c, i, s, |y|) ++ H(p) (core 0, item index, service id, payload length, package hash)
 * and the job's gas. Halt: the output is μ[ω7 .. ω7 + ω8] (panic when unreadable, `oversize` over
 * MAX_REFINE_OUTPUT_BYTES); out of gas: `out_of_gas`; panic or page fault: `panic`.
 * Deterministic: same code and job give the same outcome and gas.
 * @throws only when the interpreter itself fails (an engine fault, never a guest result)
 */
export function executePvmRefine(code: PvmServiceCode, job: RefineJob): RefineOutcome {
  const w = new GpWriter();
  w.compact(0, 'core');
  w.compact(job.itemIndex, 'item');
  w.compact(job.serviceId ?? 0, 'service');
  w.compact(job.payload.length, 'payload length');
  w.bytes(job.packageHash ?? new Uint8Array(32));
  const state: HostState = { payload: job.payload, itemIndex: job.itemIndex, logs: [], droppedLogs: 0 };
  const limit = clampGas(job.gasLimit);
  return runPvm(
    { kind: 'service', bytes: code.bytes, blob: code.service.program.blob, pc: PVM_REFINE_ENTRY, args: w.finish() },
    limit,
    hostCalls(state),
    (r: PvmRunResult, m: AnanAs): RefineOutcome => {
      const gasUsed = limit - r.gasLeft;
      const logs = finishLogs(state);
      if (r.exit === 'out-of-gas') return { result: { out_of_gas: null }, gasUsed: limit, logs };
      if (r.exit !== 'halt') return { result: { panic: null }, gasUsed, logs };
      const ptr = r.registers[7]!;
      const len = r.registers[8]!;
      if (len > BigInt(MAX_REFINE_OUTPUT_BYTES)) return { result: { oversize: null }, gasUsed, logs };
      if (ptr + len > 1n << 32n) return { result: { panic: null }, gasUsed, logs };
      const out = len === 0n ? new Uint8Array(0) : m.readMemory(Number(ptr), Number(len));
      if (out === null) return { result: { panic: null }, gasUsed, logs };
      return { result: { ok: out }, gasUsed, logs };
    },
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
