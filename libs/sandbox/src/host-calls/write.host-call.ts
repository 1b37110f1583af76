import { HOST_KEY_GAS_PER_BYTE, HOST_WRITE_BYTES_PER_GAS } from '../cost-table';
import {
  HOST_FULL,
  HOST_NONE,
  HOST_OOB,
  HOST_WHAT,
  I32,
  I64,
  MAX_STORAGE_KEY_BYTES,
  MAX_STORAGE_VALUE_BYTES,
  MAX_WRITE_SET_BYTES,
  MAX_WRITE_SET_KEYS,
} from '../host-abi';
import { defineHostCall, gasForBytes, inGuestMemory, toHex } from './host-call';

/**
 * `write(key_ptr, key_len, val_ptr, val_len) -> i64` (accumulate only; refine gets WHAT): sets the
 * value (`val_len` 0 deletes) and returns the previous length or NONE. Keys over
 * MAX_STORAGE_KEY_BYTES get WHAT, values over MAX_STORAGE_VALUE_BYTES get FULL, ranges outside
 * memory OOB (all three for the base alone, before reading anything); a write past the write-set cap
 * or the storage footprint quota gets FULL and changes nothing (docs/service-abi.md).
 *
 * Price: base; then HOST_KEY_GAS_PER_BYTE per key byte plus 1 gas per HOST_WRITE_BYTES_PER_GAS value
 * bytes (rounded up), charged before the caps are checked, so a refused write costs what a
 * successful one does.
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const writeHostCall = defineHostCall({
  params: [I32, I32, I32, I32],
  results: [I64],
  price: { base: 5000n },
  handle(env, keyPtr, keyLen, valPtr, valLen) {
    env.charge(this.price.base);
    const job = env.job;
    if (job.mode !== 'accumulate') return HOST_WHAT;
    const keyP = keyPtr >>> 0;
    const keyL = keyLen >>> 0;
    const valP = valPtr >>> 0;
    const valL = valLen >>> 0;
    if (keyL > MAX_STORAGE_KEY_BYTES) return HOST_WHAT;
    if (valL > MAX_STORAGE_VALUE_BYTES) return HOST_FULL;
    if (!inGuestMemory(env, keyP, keyL) || !inGuestMemory(env, valP, valL)) return HOST_OOB;
    env.charge(BigInt(keyL) * HOST_KEY_GAS_PER_BYTE + gasForBytes(valL, HOST_WRITE_BYTES_PER_GAS));
    const k = toHex(env.memory().subarray(keyP, keyP + keyL));
    // write-set cap (docs/service-abi.md): size after this write, counting an overwrite of a key
    // already in the write-set as a replacement of its previous value
    const inWriteSet = job.overlay.has(k);
    const pending = job.overlay.get(k);
    const bytesAfter = job.overlayBytes - (inWriteSet ? keyL + (pending?.length ?? 0) : 0) + keyL + valL;
    const keysAfter = job.overlay.size + (inWriteSet ? 0 : 1);
    // a write that does not grow the write-set always fits: both sums only ever stay within the caps
    if (bytesAfter > MAX_WRITE_SET_BYTES || keysAfter > MAX_WRITE_SET_KEYS) return HOST_FULL;
    // storage footprint quota (docs/service-abi.md; GP 0.7.2 write answers FULL past the balance):
    // the stored snapshot overlaid with the write-set, kept as running totals. Only a write that
    // grows the footprint can be refused, so a service over its quota can still shrink or delete.
    // An insert always grows the bytes (values are at least 1 byte), so growth is a bytes test.
    const prev = inWriteSet ? pending : job.storage.get(k);
    const present = prev !== undefined && prev !== null;
    const footprintBytesAfter = job.footprintBytes - (present ? keyL + prev.length : 0) + (valL === 0 ? 0 : keyL + valL);
    const footprintItemsAfter = job.footprintItems - (present ? 1 : 0) + (valL === 0 ? 0 : 1);
    if (footprintBytesAfter > job.footprintBytes && (footprintBytesAfter > job.quota.maxBytes || footprintItemsAfter > job.quota.maxItems)) return HOST_FULL;
    job.overlay.set(k, valL === 0 ? null : env.memory().slice(valP, valP + valL));
    job.overlayBytes = bytesAfter;
    job.footprintBytes = footprintBytesAfter;
    job.footprintItems = footprintItemsAfter;
    return present ? BigInt(prev.length) : HOST_NONE;
  },
});
