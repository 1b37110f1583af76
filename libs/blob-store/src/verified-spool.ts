import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { createBlake2b256, toHex, DomainError } from '@jam/domain';

/**
 * Streams `body` into a new file `file` (created exclusively, mode 0600) while hashing it with
 * Blake2b-256, and accepts it only if the digest equals `hash`: the one place every blob store
 * verifies what it is given (threat model "Integrity / Tampering"). On success the file is
 * complete (fsynced when `opts.fsync`) and left for the caller to publish and remove; on any
 * error it is removed.
 * @param opts.maxBytes cap in bytes; reading stops as soon as it is passed
 * @param opts.sha256 also compute SHA-256 (for object stores that check a checksum on upload)
 * @returns the length in bytes and, when asked, the SHA-256 digest
 * @throws DomainError('payload_too_large') past `maxBytes`; DomainError('hash_mismatch');
 *   RangeError when `maxBytes` is not an integer >= 0; IO errors.
 */
export async function spoolVerified(
  file: string,
  hash: string,
  body: AsyncIterable<Uint8Array>,
  opts: { maxBytes: number; fsync?: boolean; sha256?: boolean },
): Promise<{ length: number; sha256?: Buffer }> {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0) throw new RangeError(`maxBytes must be an integer >= 0, got ${opts.maxBytes}`);
  const blake = createBlake2b256();
  const sha = opts.sha256 ? createHash('sha256') : undefined;
  const handle = await fsp.open(file, 'wx', 0o600);
  let length = 0;
  let closed = false;
  let ok = false;
  try {
    for await (const chunk of body) {
      length += chunk.length;
      if (length > opts.maxBytes) {
        throw new DomainError('payload_too_large', `preimage exceeds max_preimage_bytes (${opts.maxBytes} bytes)`, { max_bytes: opts.maxBytes });
      }
      blake.update(chunk);
      sha?.update(chunk);
      // FileHandle.write may write fewer bytes than asked; loop until the chunk is on disk.
      for (let off = 0; off < chunk.length;) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
    }
    const actual = toHex(blake.digest());
    if (actual !== hash) {
      throw new DomainError('hash_mismatch', `Blake2b-256 of the body is ${actual}, not ${hash}`, { expected: hash, actual });
    }
    if (opts.fsync) await handle.sync();
    await handle.close();
    closed = true;
    ok = true;
    return { length, ...(sha ? { sha256: sha.digest() } : {}) };
  } finally {
    if (!closed) await handle.close().catch(() => undefined);
    if (!ok) await fsp.rm(file, { force: true });
  }
}

/**
 * Removes the regular files in `dir` last modified more than `olderThanMs` ago whose name passes
 * `accept` (default: every file): the spool files of uploads a crash left behind. A missing
 * directory has none.
 * @returns how many files were removed
 * @throws IO errors other than a missing directory
 */
export async function removeStaleFiles(dir: string, olderThanMs: number, accept: (name: string) => boolean = () => true): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of await fsp.readdir(dir).catch(ifMissing([] as string[]))) {
    if (!accept(name)) continue;
    const file = path.join(dir, name);
    const st = await fsp.stat(file).catch(() => undefined);
    if (!st || !st.isFile() || st.mtime.getTime() >= cutoff) continue;
    await fsp.rm(file, { force: true });
    removed++;
  }
  return removed;
}

/** A `catch` handler that answers `fallback` for ENOENT and rethrows anything else. */
function ifMissing<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  };
}
