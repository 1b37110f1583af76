import type { Readable } from 'node:stream';

/** Outcome of storing a blob. */
export interface PutResult {
  /** false when a blob with this hash was already stored (the new bytes were verified and dropped). */
  created: boolean;
  /** bytes */
  length: number;
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
  /** Stream of the blob (not re-verified; use getBytes where integrity matters). @throws DomainError('not_found') */
  getStream(hash: string): Promise<{ length: number; stream: Readable }>;
  has(hash: string): Promise<boolean>;
  /** Removes a blob; no-op if absent. */
  delete(hash: string): Promise<void>;
}
