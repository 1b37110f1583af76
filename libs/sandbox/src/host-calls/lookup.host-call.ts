import { HOST_COPY_BYTES_PER_GAS } from '../cost-table';
import { HOST_NONE, HOST_OOB, I32, I64 } from '../host-abi';
import { defineHostCall, inGuestMemory, toHex, windowedCopy } from './host-call';

/**
 * `lookup(hash_ptr, out_ptr, offset, max_len) -> i64`: windowed copy of the job's preimage whose
 * Blake2b-256 is the 32 bytes at `hash_ptr`; NONE if absent, OOB if the hash is outside memory
 * (docs/service-abi.md). Price: base (covers reading and looking up the fixed 32-byte hash), then
 * 1 gas per HOST_COPY_BYTES_PER_GAS bytes copied.
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const lookupHostCall = defineHostCall({
  params: [I32, I32, I32, I32],
  results: [I64],
  price: { base: 5000n },
  handle(env, hashPtr, outPtr, offset, maxLen) {
    env.charge(this.price.base);
    const p = hashPtr >>> 0;
    if (!inGuestMemory(env, p, 32)) return HOST_OOB;
    const preimage = env.job.preimages.get(toHex(env.memory().subarray(p, p + 32)));
    return preimage === undefined ? HOST_NONE : windowedCopy(env, preimage, outPtr, offset, maxLen, HOST_COPY_BYTES_PER_GAS);
  },
});
