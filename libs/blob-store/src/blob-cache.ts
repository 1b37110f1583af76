import { LRUCache } from 'lru-cache';
import type { BlobStore } from './blob-store.port';
import { BlobUnavailableError } from './required-blob';

/** Default byte budget of a {@link BlobCache}: 32 MiB (about 30 service codes at the 1 MiB code limit). */
export const DEFAULT_BLOB_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Bounded cache of blobs read by content hash, in front of a {@link BlobStore} (issue 8: refine
 * re-read the service code from the store for every job, three times per package). A blob is
 * named by the Blake2b-256 of its bytes and `getBytes` verifies that hash, so a cached blob can
 * never be stale: the same hash always names the same bytes. What can change is only whether
 * the store still holds it; a hit answers from memory, as a read that happened a moment earlier would.
 *
 * Least recently used blobs are dropped once the cached bytes exceed `maxBytes`; a blob larger than
 * `maxBytes` is read but not kept. Concurrent misses of one hash share one store read. Callers
 * must not modify the returned bytes (they are shared).
 */
export class BlobCache {
  private readonly cache: LRUCache<string, Uint8Array>;
  private readonly reading = new Map<string, Promise<Uint8Array>>();
  /** Reads answered from memory / from the store, since construction. */
  readonly stats = { hits: 0, misses: 0 };

  /** @param maxBytes byte budget of the cached blobs (>= 1) */
  constructor(
    private readonly store: BlobStore,
    readonly maxBytes: number = DEFAULT_BLOB_CACHE_BYTES,
  ) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be an integer >= 1, got ${maxBytes}`);
    this.cache = new LRUCache<string, Uint8Array>({ maxSize: maxBytes, sizeCalculation: (b) => Math.max(1, b.length) });
  }

  /**
   * The blob's bytes, hash-verified when read from the store ({@link BlobUnavailableError.read}).
   * @param hash `0x` + 64 hex digits (case-insensitive)
   * @param what description for the error message
   * @throws BlobUnavailableError for anything the store throws (missing, corrupted, store failure); nothing is cached then
   */
  async read(hash: string, what: string): Promise<Uint8Array> {
    const key = hash.toLowerCase();
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    const pending = this.reading.get(key);
    if (pending !== undefined) return pending;
    this.stats.misses++;
    const read = BlobUnavailableError.read(this.store, hash, what).then(
      (bytes) => {
        this.reading.delete(key);
        if (bytes.length <= this.maxBytes) this.cache.set(key, bytes);
        return bytes;
      },
      (err: unknown) => {
        this.reading.delete(key);
        throw err;
      },
    );
    this.reading.set(key, read);
    return read;
  }

  /** Bytes currently cached. */
  get size(): number {
    return this.cache.calculatedSize;
  }
}
