import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { blake2b256, createBlake2b256, toHex, DomainError } from '@jam/domain';
import { removeStaleFiles, spoolVerified } from './verified-spool';
import type { BlobEntry, BlobStore, BlobStoreMaintenance, PutResult, StoreMarkerAccess } from './blob-store.port';
import { STORE_MARKER_NAME } from './store-marker';

const HASH_RE = /^0x[0-9a-f]{64}$/;
/** A marker larger than this is not one (read no further). */
const MARKER_MAX_BYTES = 4096;

/**
 * Filesystem driver: blobs live at `<dir>/<first two hex>/<hash>` (hash = `0x` + 64 lowercase hex).
 * Writes go to a temp file in `<dir>/tmp`, are hashed while streaming, fsynced, then linked into
 * place, so a crash never leaves a partial blob under a valid name (a crash can leave a temp file
 * behind in `<dir>/tmp`, which {@link sweepTmp} removes). The GC moves a blob to `<dir>/trash`
 * before unlinking it ({@link deleteUnlessFresh}). `<dir>/.jam-store-id` is the store's marker
 * (see store-marker.ts): outside the shard directories, so nothing here lists or deletes it.
 */
export class FilesystemBlobStore implements BlobStore, BlobStoreMaintenance, StoreMarkerAccess {
  readonly tier = 'fs' as const;

  /** Creates `dir` (mode 0700 when new: blobs are tenants' data, closed to sandbox executors' user, docs/sandbox.md), `tmp/` and `trash/`. */
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'trash'), { recursive: true });
  }

  private pathOf(hash: string): string {
    if (!HASH_RE.test(hash)) throw new DomainError('invalid_hex', 'blob hash must be 0x + 64 lowercase hex digits');
    return path.join(this.dir, hash.slice(2, 4), hash);
  }

  /**
   * Streams `body` to a temp file while hashing it (Blake2b-256), then publishes it under `hash`
   * only if the digest matches. Publishing is create-if-absent (hard link), so of concurrent puts
   * of the same bytes exactly one reports `created: true`. A put of an existing blob then renames
   * its verified copy over it (same bytes, a fresh file and mtime): the GC keeps blobs written
   * within its grace period, and a fresh inode is what makes that safe against a racing
   * {@link deleteUnlessFresh} (the rename is atomic; a touch by path would not be).
   * Requires `initHashing()` from `@jam/domain` to have resolved.
   * @throws DomainError('invalid_hex') for a malformed hash; DomainError('payload_too_large') as
   *   soon as more than `opts.maxBytes` bytes arrive (the body is not read further);
   *   DomainError('hash_mismatch') when the digest differs. Nothing is left on disk on any error.
   * @throws RangeError when `opts.maxBytes` is not an integer >= 0.
   */
  async put(hash: string, body: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    const final = this.pathOf(hash);
    const tmp = path.join(this.dir, 'tmp', `${hash.slice(2, 18)}.${randomBytes(6).toString('hex')}`);
    try {
      const { length } = await spoolVerified(tmp, hash, body, { maxBytes: opts.maxBytes, fsync: true });
      await fsp.mkdir(path.dirname(final), { recursive: true });
      const created = await publish(tmp, final);
      if (!created) await fsp.rename(tmp, final);
      await syncDir(path.dirname(final));
      return { created, length };
    } finally {
      await fsp.rm(tmp, { force: true });
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

  async deleteUnlessFresh(hash: string, freshSince: Date): Promise<boolean> {
    const final = this.pathOf(hash);
    const trashed = path.join(this.dir, 'trash', `${hash}.${randomBytes(6).toString('hex')}`);
    // Atomic: takes whatever file is at `final` now. A put that returned before this rename wrote
    // that very file (fresh mtime, kept below); a put after it finds `final` absent and writes anew.
    try {
      await fsp.rename(final, trashed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const st = await fsp.stat(trashed);
    if (st.mtime.getTime() >= freshSince.getTime()) {
      // Written within the grace period: put it back (EEXIST = a put already wrote it anew).
      await publish(trashed, final);
      await fsp.rm(trashed, { force: true });
      return false;
    }
    await fsp.rm(trashed, { force: true });
    return true;
  }

  async sweepTmp(olderThanMs: number): Promise<number> {
    return removeStaleFiles(path.join(this.dir, 'tmp'), olderThanMs);
  }

  async recoverTrash(): Promise<number> {
    const trashDir = path.join(this.dir, 'trash');
    let restored = 0;
    for (const name of await fsp.readdir(trashDir)) {
      const hash = name.split('.')[0] ?? '';
      const file = path.join(trashDir, name);
      if (HASH_RE.test(hash)) {
        const final = this.pathOf(hash);
        await fsp.mkdir(path.dirname(final), { recursive: true });
        if (await publish(file, final).catch(() => false)) restored++;
      }
      await fsp.rm(file, { force: true });
    }
    return restored;
  }

  async *entries(startShard: number): AsyncGenerator<BlobEntry> {
    for (let i = 0; i < 256; i++) yield* this.shardEntries((startShard + i) & 0xff);
  }

  /** Blobs whose hash starts with byte `shard` (0..255), sorted. */
  async *shardEntries(shard: number): AsyncGenerator<BlobEntry> {
    const sub = (shard & 0xff).toString(16).padStart(2, '0');
    const names = await fsp.readdir(path.join(this.dir, sub)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (!HASH_RE.test(name)) continue;
      const st = await fsp.stat(path.join(this.dir, sub, name)).catch(() => undefined);
      if (st?.isFile()) yield { hash: name, length: st.size, modifiedAt: st.mtime };
    }
  }

  get location(): string {
    return this.dir;
  }

  get markerLocation(): string {
    return path.join(this.dir, STORE_MARKER_NAME);
  }

  /**
   * The marker's text (at most MARKER_MAX_BYTES), or undefined when there is none. Something at
   * the marker's name that is not a regular file (a directory, a FIFO, a device, a symbolic link
   * to a missing file or a link loop) names no store: its description in angle brackets is
   * returned instead, so `bindBlobStore` refuses it as `unreadable` with the path in the message.
   * Opened non-blocking, so a FIFO nobody writes to cannot hang the process's start.
   */
  async readMarker(): Promise<string | undefined> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.markerLocation, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') return '<a symbolic link loop, not a file>';
      if (code !== 'ENOENT') throw err;
      // ENOENT also for a symbolic link whose target is missing: that is not "no marker"
      const target = await fsp.readlink(this.markerLocation).catch(() => undefined);
      return target === undefined ? undefined : `<a symbolic link to a missing file: ${target}>`;
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) return `<${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : 'a special file'}, not a file>`;
      const buf = Buffer.alloc(MARKER_MAX_BYTES);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  }

  /**
   * Exclusive and atomic: the content goes to a temp file (fsynced) that is then hard-linked to
   * the marker's name, which fails with EEXIST when a marker exists, so readers never see a
   * partial marker and of concurrent writers exactly one wins. On filesystems without hard links,
   * an exclusive create (`wx`) then write: exclusive, but a reader can briefly see it empty
   * (`bindBlobStore` re-reads).
   */
  async writeMarkerIfAbsent(content: string): Promise<boolean> {
    const final = this.markerLocation;
    const tmp = path.join(this.dir, 'tmp', `store-marker.${randomBytes(6).toString('hex')}`);
    try {
      const handle = await fsp.open(tmp, 'wx', 0o644);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await fsp.link(tmp, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
        try {
          await fsp.writeFile(final, content, { flag: 'wx', mode: 0o644 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw e;
        }
      }
      await syncDir(this.dir);
      return true;
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async sampleBlobs(limit: number): Promise<string[]> {
    const out: string[] = [];
    if (limit <= 0) return out;
    for await (const e of this.entries(0)) {
      out.push(e.hash);
      if (out.length >= limit) break;
    }
    return out;
  }

  async verify(hash: string): Promise<'ok' | 'corrupt' | 'missing'> {
    const hasher = createBlake2b256();
    try {
      for await (const chunk of fs.createReadStream(this.pathOf(hash))) hasher.update(chunk as Buffer);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    return toHex(hasher.digest()) === hash ? 'ok' : 'corrupt';
  }
}

/**
 * Makes the verified temp file visible as `final` unless a blob is already there. Returns true
 * when this call created it. Uses link(2), which fails with EEXIST instead of replacing; falls
 * back to an exists-check + rename on filesystems without hard links.
 */
async function publish(tmp: string, final: string): Promise<boolean> {
  try {
    await fsp.link(tmp, final);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
  }
  if (fs.existsSync(final)) return false;
  await fsp.rename(tmp, final);
  return true;
}

/** fsync of a directory, so a new entry survives a crash (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
