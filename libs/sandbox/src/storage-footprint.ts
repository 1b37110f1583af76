import type { StorageFootprint } from './sandbox.types';

/**
 * Footprint of a storage snapshot keyed by `0x` hex (as accumulate jobs carry it): bytes = sum of
 * key length + value length over every item, items = number of keys (docs/service-abi.md,
 * "Storage footprint quota"). O(items); the executor computes it once per job.
 */
export function footprintOf(storage: ReadonlyMap<string, Uint8Array>): StorageFootprint {
  let bytes = 0;
  for (const [key, value] of storage) bytes += (key.length - 2) / 2 + value.length;
  return { bytes, items: storage.size };
}
