import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createBlake2b256, blake2b256, toHex, DomainError } from '@jam/domain';
import type { BlobStore, PutResult } from './blob-store.port';

const HASH_RE = /^0x[0-9a-f]{64}$/;

/**
 * Filesystem driver: blobs live at `<dir>/<first two hex>/<hash>`. Writes go to a temp file in
 * `<dir>/tmp`, are hashed while streaming, fsynced, then renamed into place, so a crash never
 * leaves a partial blob under a valid name.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly tier = 'fs' as const;

  constructor(private readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  }

  private pathOf(hash: string): string {
    if (!HASH_RE.test(hash)) throw new DomainError('invalid_hex', 'blob hash must be 0x + 64 lowercase hex digits');
    return path.join(this.dir, hash.slice(2, 4), hash);
  }

  async put(hash: string, body: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    const final = this.pathOf(hash);
    const tmp = path.join(this.dir, 'tmp', `${hash.slice(2, 18)}.${randomBytes(6).toString('hex')}`);
    const hasher = createBlake2b256();
    const handle = await fsp.open(tmp, 'w', 0o600);
    let length = 0;
    let done = false;
    try {
      for await (const chunk of body) {
        length += chunk.length;
        if (length > opts.maxBytes) {
          throw new DomainError('payload_too_large', `preimage exceeds max_preimage_bytes (${opts.maxBytes} bytes)`, { max_bytes: opts.maxBytes });
        }
        hasher.update(chunk);
        await handle.write(chunk);
      }
      const actual = toHex(hasher.digest());
      if (actual !== hash) {
        throw new DomainError('hash_mismatch', `Blake2b-256 of the body is ${actual}, not ${hash}`, { expected: hash, actual });
      }
      await handle.sync();
      await handle.close();
      done = true;
      if (fs.existsSync(final)) {
        await fsp.rm(tmp, { force: true });
        return { created: false, length };
      }
      await fsp.mkdir(path.dirname(final), { recursive: true });
      await fsp.rename(tmp, final);
      return { created: true, length };
    } finally {
      if (!done) {
        await handle.close().catch(() => undefined);
        await fsp.rm(tmp, { force: true });
      }
    }
  }

  async getBytes(hash: string): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.pathOf(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DomainError('not_found', `no blob ${hash}`);
      throw err;
    }
    const actual = toHex(blake2b256(bytes));
    if (actual !== hash) throw new Error(`blob ${hash} is corrupted on disk (hashes to ${actual})`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async getStream(hash: string) {
    const file = this.pathOf(hash);
    try {
      const st = await fsp.stat(file);
      return { length: st.size, stream: fs.createReadStream(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DomainError('not_found', `no blob ${hash}`);
      throw err;
    }
  }

  async has(hash: string): Promise<boolean> {
    return fs.existsSync(this.pathOf(hash));
  }

  async delete(hash: string): Promise<void> {
    await fsp.rm(this.pathOf(hash), { force: true });
  }
}
