import { WORK_EXEC_RESULT_KINDS, type WorkExecResult } from '@jam/domain';
import { HOST_COPY_BYTES_PER_GAS } from '../cost-table';
import { HOST_NONE, I32, I64 } from '../host-abi';
import { defineHostCall, windowedCopy } from './host-call';

function resultCode(result: WorkExecResult): number {
  const kind = Object.keys(result)[0] as (typeof WORK_EXEC_RESULT_KINDS)[number];
  return WORK_EXEC_RESULT_KINDS.indexOf(kind);
}

/**
 * `fetch(kind, index, out_ptr, offset, max_len) -> i64`: windowed copy of the payload (kind 0,
 * refine), an operand's output (kind 1, accumulate), its result code (kind 2) or this work item's
 * imported segment `index` (kind 3, refine, 4104 bytes, since engine 0.7.0); NONE otherwise
 * (docs/service-abi.md). Price: base, then 1 gas per HOST_COPY_BYTES_PER_GAS bytes copied.
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const fetchHostCall = defineHostCall({
  params: [I32, I32, I32, I32, I32],
  results: [I64],
  price: { base: 1500n },
  handle(env, kind, index, outPtr, offset, maxLen) {
    env.charge(this.price.base);
    const job = env.job;
    let obj: Uint8Array | undefined;
    if (kind === 0 && job.mode === 'refine') obj = job.payload;
    else if (kind === 3 && job.mode === 'refine') obj = job.imports[index >>> 0];
    else if ((kind === 1 || kind === 2) && job.mode === 'accumulate') {
      const op = job.operands[index >>> 0];
      if (op !== undefined) {
        if (kind === 2) obj = Uint8Array.of(resultCode(op.result));
        else if ('ok' in op.result) obj = op.result.ok;
      }
    }
    return obj === undefined ? HOST_NONE : windowedCopy(env, obj, outPtr, offset, maxLen, HOST_COPY_BYTES_PER_GAS);
  },
});
