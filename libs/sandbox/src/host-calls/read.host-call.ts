import { HOST_COPY_BYTES_PER_GAS, HOST_KEY_GAS_PER_BYTE } from '../cost-table';
import { HOST_NONE, HOST_OOB, HOST_WHAT, I32, I64, MAX_STORAGE_KEY_BYTES } from '../host-abi';
import { defineHostCall, inGuestMemory, toHex, windowedCopy } from './host-call';

/**
 * `read(key_ptr, key_len, out_ptr, offset, max_len) -> i64` (accumulate only; refine gets WHAT):
 * windowed copy of this service's storage value under the key, seeing this job's own writes; NONE
 * if absent (docs/service-abi.md).
 *
 * Price: base; then, for a key of at most MAX_STORAGE_KEY_BYTES, HOST_KEY_GAS_PER_BYTE per key byte
 * (the key is hex-encoded and hashed by the storage map) before the lookup; then 1 gas per
 * HOST_COPY_BYTES_PER_GAS bytes copied. A longer key answers NONE for the base alone without being
 * read (cost table v4): `write` never stores such a key, so none exists; before v4 the host copied
 * and hex-encoded keys of any length (a 64 MiB key cost 1,468 ns per gas).
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const readHostCall = defineHostCall({
  params: [I32, I32, I32, I32, I32],
  results: [I64],
  price: { base: 4000n },
  handle(env, keyPtr, keyLen, outPtr, offset, maxLen) {
    env.charge(this.price.base);
    const job = env.job;
    if (job.mode !== 'accumulate') return HOST_WHAT;
    const p = keyPtr >>> 0;
    const l = keyLen >>> 0;
    if (!inGuestMemory(env, p, l)) return HOST_OOB;
    if (l > MAX_STORAGE_KEY_BYTES) return HOST_NONE;
    env.charge(BigInt(l) * HOST_KEY_GAS_PER_BYTE);
    const k = toHex(env.memory().subarray(p, p + l));
    const value = job.overlay.has(k) ? job.overlay.get(k) : job.storage.get(k);
    return value === undefined || value === null ? HOST_NONE : windowedCopy(env, value, outPtr, offset, maxLen, HOST_COPY_BYTES_PER_GAS);
  },
});
