import { Transform, type TransformCallback } from 'node:stream';
import { createBlake2b256, toHex } from '@jam/domain';

/** A blob's bytes do not hash to its name (or have the wrong length): found while streaming it out. */
export class BlobCorruptError extends Error {
  override name = 'BlobCorruptError';

  constructor(
    /** `0x` hash the bytes were stored under. */
    readonly hash: string,
    /** What was found: the digest of the bytes read, or a length problem. */
    readonly found: string,
  ) {
    super(`blob ${hash} is corrupt: ${found}`);
  }
}

/**
 * A pass-through that hashes (Blake2b-256) and counts what flows through it and fails with
 * {@link BlobCorruptError} unless the bytes are exactly `length` bytes hashing to `hash` (threat
 * model "Integrity / Tampering": a download is verified like an upload). The last chunk is held
 * back until the digest is checked, so a reader that was promised `length` bytes
 * (`Content-Length`) never receives a complete corrupt body: on a mismatch the stream errors
 * before the final bytes, and a `pipeline` into an HTTP response aborts it. Bytes beyond `length`
 * fail at once. Holds at most one chunk of the source (64 KiB for files and S3 bodies).
 * @param hash `0x` + 64 lowercase hex
 * @param length expected bytes (the preimage row's length)
 */
export function createVerifyingStream(hash: string, length: number): Transform {
  const hasher = createBlake2b256();
  let seen = 0;
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      if (chunk.length === 0) return done();
      seen += chunk.length;
      if (seen > length) return done(new BlobCorruptError(hash, `more than the recorded ${length} bytes`));
      hasher.update(chunk);
      const out = held;
      held = chunk;
      done(null, out);
    },
    flush(done: TransformCallback) {
      if (seen !== length) return done(new BlobCorruptError(hash, `${seen} bytes, not the recorded ${length}`));
      const actual = toHex(hasher.digest());
      if (actual !== hash) return done(new BlobCorruptError(hash, `bytes hash to ${actual}`));
      done(null, held);
    },
  });
}
