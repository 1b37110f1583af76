import type { Readable } from 'node:stream';

/** Outcome of storing a blob. */
export interface PutResult {
  /** false when a blob with this hash was already stored (the new bytes were verified and dropped). */
  created: boolean;
  /** bytes */
  length: number;
  /** Tier the blob landed in, when the driver routes between tiers (record it as the preimage's storage_tier); else the driver's `tier`. */
  tier?: 'fs' | 'db' | 's3';
}

/**
 * Content-addressed blob storage keyed by Blake2b-256 (`0x` lowercase hex). Every driver verifies
 * the hash of what it writes before the blob becomes visible, and of what it reads back.
 */
export interface BlobStore {
  /** Which tier this driver is, as recorded in preimage metadata. */
  readonly tier: 'fs' | 'db' | 's3';
  /**
   * Streams `body` in, hashing as it goes; stores it under `hash` only if the digest matches.
   * @throws DomainError('hash_mismatch') when the digest differs; DomainError('payload_too_large')
   *   as soon as more than `maxBytes` arrive (the partial data is discarded).
   */
  put(hash: string, body: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult>;
  /** Whole blob, hash-verified. @throws DomainError('not_found'); Error on a corrupted blob. */
  getBytes(hash: string): Promise<Uint8Array>;
  /**
   * Stream of the blob, not verified: pipe it through `createVerifyingStream` (or use getBytes)
   * where integrity matters. Consume it to the end or destroy it (`stream.pipeline` does both on
   * every path): an abandoned S3 stream keeps a pooled connection forever.
   * @throws DomainError('not_found'); BlobStoreUnavailableError when the object store does not answer.
   */
  getStream(hash: string): Promise<{ length: number; stream: Readable }>;
  has(hash: string): Promise<boolean>;
  /** Removes a blob; no-op if absent. */
  delete(hash: string): Promise<void>;
}

/** One stored blob as the maintenance tasks see it. */
export interface BlobEntry {
  /** `0x` + 64 lowercase hex. */
  hash: string;
  /** bytes */
  length: number;
  /** Last write of the bytes (a repeated put refreshes it). */
  modifiedAt: Date;
}

/**
 * Janitor operations of a blob store (threat model "Storage Bloat", "Object Store Misuse").
 * None of them is on a request path.
 */
export interface BlobStoreMaintenance {
  /**
   * GC delete of a blob whose metadata row is already gone: removes it unless it was written
   * (put, or re-put) at or after `freshSince`, in which case it is kept and false returned.
   * Atomic against a concurrent put of the same hash: a put that returned before this call
   * removed the blob leaves it in place, and a later put writes it anew.
   * @returns true when the blob was removed; false when it was absent or fresh.
   */
  deleteUnlessFresh(hash: string, freshSince: Date): Promise<boolean>;
  /** Removes temp files of crashed uploads older than `olderThanMs`. @returns how many were removed. */
  sweepTmp(olderThanMs: number): Promise<number>;
  /** Puts back blobs a crashed GC left half-deleted (restoring is always safe: an orphan is swept later). @returns how many were restored. */
  recoverTrash(): Promise<number>;
  /**
   * Stored blobs, grouped by the first byte of the hash, starting at shard `startShard` (0..255)
   * and wrapping around, so bounded runs starting at different shards cover the store over time.
   */
  entries(startShard: number): AsyncGenerator<BlobEntry>;
  /** Re-hashes a stored blob (streamed). `missing` when absent. */
  verify(hash: string): Promise<'ok' | 'corrupt' | 'missing'>;
}

/**
 * The store's marker object, which names the database that owns the store (see `bindBlobStore`
 * in store-marker.ts). The marker lives outside the blob namespace (`.jam-store-id`, never a
 * `0x` hash name), so no maintenance operation lists, verifies or deletes it.
 */
export interface StoreMarkerAccess {
  /** `fs` or `s3`: which kind of store, for the operator's fix instructions. */
  readonly tier: 'fs' | 'db' | 's3';
  /** Where the store is, for messages: a directory, or `s3://<bucket>/<prefix>/`. */
  readonly location: string;
  /** Where the marker is, for messages: a file path, or `s3://<bucket>/<key>`. */
  readonly markerLocation: string;
  /** The marker's raw text, or undefined when there is none. */
  readMarker(): Promise<string | undefined>;
  /**
   * Creates the marker with `content` unless one exists (exclusive create where the store can do
   * it; see each driver for its guarantee). Callers read the marker back to learn who won.
   * @returns true when this call wrote it.
   */
  writeMarkerIfAbsent(content: string): Promise<boolean>;
  /** Up to `limit` stored blob hashes (any order): enough to tell an empty store and whose blobs it holds. */
  sampleBlobs(limit: number): Promise<string[]>;
}
