import type { BlobStore } from './blob-store.port';

/**
 * A blob that a run needs and that the database says must be there (a registered service's code,
 * an extrinsic preimage the gateway checked and the package pins) could not be read: absent from
 * the store (a lagging or restored store), corrupted (hash mismatch on read), or the store failed
 * (S3 error, I/O error). This is the infrastructure's state, not the guest's input, so callers
 * never turn it into a guest result (`bad_code`, a `lookup` answering NONE): they retry it and
 * count it (`max_sandbox_failures`, docs/sandbox.md "Failure handling"). The message always starts
 * with `blob unavailable: `.
 */
export class BlobUnavailableError extends Error {
  override name = 'BlobUnavailableError';
  constructor(
    /** `0x` + 64 lowercase hex. */
    readonly hash: string,
    /** What the blob is, for logs: `code of service 7`, `extrinsic 0 of item 1`. */
    readonly what: string,
    /** What the store threw: DomainError `not_found`, a corruption Error, an S3 or I/O error. */
    override readonly cause: unknown,
  ) {
    super(`blob unavailable: ${what} (${hash}): ${cause instanceof Error ? cause.message : String(cause)}`);
  }

  /**
   * Reads a blob a run depends on, hash-verified (`BlobStore.getBytes`).
   * @param what description for the error message
   * @returns the blob's bytes
   * @throws BlobUnavailableError for anything the store throws (missing, corrupted, store failure)
   */
  static async read(store: BlobStore, hash: string, what: string): Promise<Uint8Array> {
    try {
      return await store.getBytes(hash);
    } catch (err) {
      throw new BlobUnavailableError(hash, what, err);
    }
  }

  /** True for a BlobUnavailableError (also recognised by name, in case two copies of this module are loaded). */
  static is(err: unknown): err is BlobUnavailableError {
    return err instanceof BlobUnavailableError || (err instanceof Error && err.name === 'BlobUnavailableError');
  }
}
