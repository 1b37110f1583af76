import { GP_MAX_PACKAGE_EXPORTS, GP_SEGMENT_SIZE } from '@jam/domain';
import { HOST_COPY_BYTES_PER_GAS } from '../cost-table';
import { HOST_FULL, HOST_OOB, HOST_WHAT, I32, I64 } from '../host-abi';
import { defineHostCall, gasForBytes, inGuestMemory } from './host-call';

/**
 * `export(ptr, len) -> i64` (refine only; accumulate gets WHAT): appends one exported segment,
 * GP 0.7.2 appendix B `export`: the `min(len, W_G)` bytes at `ptr`, zero-padded to W_G = 4104
 * bytes. Returns the segment's index in the package's exports (the exports of earlier items
 * count first, `exportOffset`), FULL when the package would export more than W_X = 3072 segments,
 * OOB (nothing exported) when the range is outside memory. Price: base, then 1 gas per
 * HOST_COPY_BYTES_PER_GAS bytes copied (since engine 0.7.0). Refine's result is `bad_exports`
 * when the item exports a different number of segments than its `export_count`
 * (apps/refine-worker).
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const exportHostCall = defineHostCall({
  params: [I32, I32],
  results: [I64],
  price: { base: 1500n },
  handle(env, ptr, len) {
    env.charge(this.price.base);
    const job = env.job;
    if (job.mode !== 'refine') return HOST_WHAT;
    const p = ptr >>> 0;
    const n = Math.min(len >>> 0, GP_SEGMENT_SIZE);
    if (!inGuestMemory(env, p, n)) return HOST_OOB;
    const index = job.exportOffset + job.exports.length;
    if (index >= GP_MAX_PACKAGE_EXPORTS) return HOST_FULL;
    env.charge(gasForBytes(n, HOST_COPY_BYTES_PER_GAS));
    const segment = new Uint8Array(GP_SEGMENT_SIZE);
    segment.set(env.memory().subarray(p, p + n));
    job.exports.push(segment);
    return BigInt(index);
  },
});
