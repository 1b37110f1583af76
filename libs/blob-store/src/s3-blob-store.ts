import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { blake2b256, createBlake2b256, toHex, DomainError } from '@jam/domain';
import { removeStaleFiles, spoolVerified } from './verified-spool';
import type { BlobEntry, BlobStore, BlobStoreMaintenance, PutResult, StoreMarkerAccess } from './blob-store.port';
import { STORE_MARKER_NAME } from './store-marker';
import { BlobStoreUnavailableError, isObjectStoreUnavailable } from './blob-store-unavailable.error';

const HASH_RE = /^0x[0-9a-f]{64}$/;
/** A marker larger than this is not one (read no further). */
const MARKER_MAX_BYTES = 4096;

/** Settings of {@link S3BlobStore}. Credentials are secrets: never log this object. */
export interface S3BlobStoreOptions {
  /** e.g. `https://s3.eu-central-1.amazonaws.com` or a MinIO URL; undefined = the SDK's AWS default. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Key prefix without leading/trailing `/`; '' = bucket root. Objects are `<prefix>/<hash>`. */
  prefix: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), needed by most S3-compatible servers. */
  forcePathStyle: boolean;
  /** Static credentials; undefined = the SDK's default chain (environment, IRSA, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Connect timeout and socket idle timeout of every request, ms. */
  timeoutMs: number;
  /** Attempts per request including retries (SDK standard retry with backoff); default 3. */
  maxAttempts?: number;
  /** Local directory for spooling uploads while they are hashed (created; files 0600). */
  spoolDir: string;
}

/**
 * Object-store driver (threat model "Object Store Misuse (S3 mode)"). A put spools the body to a
 * local temp file while hashing it (Blake2b-256 and SHA-256) and counting bytes, and uploads to
 * the final key `<prefix>/<hash>` only after the digest matched: a mismatched or oversize body
 * never reaches the bucket. The upload carries `x-amz-checksum-sha256`, so S3 itself rejects bytes
 * corrupted in transit (S3-compatible servers that ignore it rely on the checks below), and the
 * stored length is checked with HEAD afterwards. {@link getBytes} and {@link verify} re-hash what
 * they download. Metadata (length, tier, uploaders) stays in the database; the bucket holds bytes.
 * `<prefix>/.jam-store-id` is the store's marker (see store-marker.ts): not a hash key, so nothing
 * here lists or deletes it.
 */
export class S3BlobStore implements BlobStore, BlobStoreMaintenance, StoreMarkerAccess {
  readonly tier = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly spoolDir: string;

  constructor(opts: S3BlobStoreOptions) {
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      // A fresh object: the SDK annotates credentials in place, and the config's are frozen.
      credentials: opts.credentials && { accessKeyId: opts.credentials.accessKeyId, secretAccessKey: opts.credentials.secretAccessKey },
      maxAttempts: opts.maxAttempts ?? 3,
      // We send our own SHA-256 checksum; the SDK's default CRC trailer (aws-chunked) is not
      // understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs, throwOnRequestTimeout: true },
    });
    this.bucket = opts.bucket;
    this.prefix = opts.prefix.replace(/^\/+|\/+$/g, '');
    this.spoolDir = opts.spoolDir;
    fs.mkdirSync(this.spoolDir, { recursive: true });
  }

  /** Object key of a blob. @throws DomainError('invalid_hex') for a malformed hash. */
  keyOf(hash: string): string {
    if (!HASH_RE.test(hash)) throw new DomainError('invalid_hex', 'blob hash must be 0x + 64 lowercase hex digits');
    return this.prefix === '' ? hash : `${this.prefix}/${hash}`;
  }

  /**
   * Hashes `body` into a spool file, then uploads it to `<prefix>/<hash>` if the digest matches.
   * A put of an existing blob uploads it again (a fresh LastModified, which the GC's grace check reads).
   * @throws DomainError('invalid_hex' | 'payload_too_large' | 'hash_mismatch'); RangeError for a bad
   *   maxBytes; the SDK's error when S3 fails after retries. Nothing is uploaded on a body error.
   */
  async put(hash: string, body: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    const key = this.keyOf(hash);
    const spool = path.join(this.spoolDir, `s3-${hash.slice(2, 18)}.${randomBytes(6).toString('hex')}`);
    try {
      // Nothing reaches the bucket before the whole body is in and its hash matches.
      const { length, sha256 } = await spoolVerified(spool, hash, body, { maxBytes: opts.maxBytes, sha256: true });
      const existed = await this.has(hash);
      await this.unavailableAs(`upload of blob ${hash}`, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: fs.createReadStream(spool),
            ContentLength: length,
            ContentType: 'application/octet-stream',
            ChecksumSHA256: sha256!.toString('base64'),
            Metadata: { 'blake2b-256': hash },
          }),
        ),
      );
      const head = await this.unavailableAs(`check of blob ${hash}`, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      if (head.ContentLength !== length) {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => undefined);
        throw new Error(`object store kept ${head.ContentLength} bytes of blob ${hash}, expected ${length}; removed it`);
      }
      return { created: !existed, length, tier: 's3' };
    } finally {
      await fsp.rm(spool, { force: true });
    }
  }

  async getBytes(hash: string): Promise<Uint8Array> {
    const out = await this.get(hash);
    const bytes = await out.Body!.transformToByteArray();
    const actual = toHex(blake2b256(bytes));
    if (actual !== hash) throw new Error(`blob ${hash} is corrupted in the object store (hashes to ${actual})`);
    return bytes;
  }

  /**
   * The object's body as a stream (not verified here; the gateway verifies while it streams).
   * The stream holds one of the client's pooled sockets until it ends or is destroyed: callers
   * must consume it to the end or destroy it (`stream.pipeline` does both), or the pool runs dry
   * and every later S3 call waits for a socket until it times out.
   * @throws DomainError('not_found'); BlobStoreUnavailableError when S3 does not answer.
   */
  async getStream(hash: string): Promise<{ length: number; stream: Readable }> {
    const out = await this.get(hash);
    return { length: out.ContentLength ?? 0, stream: out.Body as Readable };
  }

  async has(hash: string): Promise<boolean> {
    return (await this.head(hash)) !== undefined;
  }

  async delete(hash: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
  }

  /**
   * Removes the object unless its LastModified is at or after `freshSince`. Not atomic against a
   * racing put (HEAD then DELETE): a put landing between the two is lost. The window is one round
   * trip, and only for hashes whose row the GC has just deleted; see docs/security.md.
   */
  async deleteUnlessFresh(hash: string, freshSince: Date): Promise<boolean> {
    const head = await this.head(hash);
    if (head === undefined) return false;
    if ((head.LastModified?.getTime() ?? Date.now()) >= freshSince.getTime()) return false;
    await this.delete(hash);
    return true;
  }

  /** Removes spool files of crashed uploads older than `olderThanMs` (nothing temporary lives in the bucket). */
  async sweepTmp(olderThanMs: number): Promise<number> {
    return removeStaleFiles(this.spoolDir, olderThanMs, (name) => name.startsWith('s3-'));
  }

  /** Nothing to recover: the S3 GC deletes directly. */
  async recoverTrash(): Promise<number> {
    return 0;
  }

  async *entries(startShard: number): AsyncGenerator<BlobEntry> {
    for (let i = 0; i < 256; i++) yield* this.shardEntries((startShard + i) & 0xff);
  }

  /** Objects of one shard (first hash byte), listed page by page. */
  async *shardEntries(shard: number): AsyncGenerator<BlobEntry> {
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    const listPrefix = `${base}0x${shard.toString(16).padStart(2, '0')}`;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const hash = (o.Key ?? '').slice(base.length);
        if (HASH_RE.test(hash)) yield { hash, length: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async verify(hash: string): Promise<'ok' | 'corrupt' | 'missing'> {
    let out;
    try {
      out = await this.get(hash);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') return 'missing';
      throw err;
    }
    const hasher = createBlake2b256();
    for await (const chunk of out.Body as Readable) hasher.update(chunk as Buffer);
    return toHex(hasher.digest()) === hash ? 'ok' : 'corrupt';
  }

  get location(): string {
    return `s3://${this.bucket}/${this.prefix === '' ? '' : `${this.prefix}/`}`;
  }

  get markerLocation(): string {
    return `s3://${this.bucket}/${this.markerKey()}`;
  }

  /** Retries a body that breaks off (the SDK retries requests, not the body read after them). */
  async readMarker(): Promise<string | undefined> {
    for (let attempt = 1; ; attempt++) {
      let out;
      try {
        out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.markerKey() }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if ((out.ContentLength ?? 0) > MARKER_MAX_BYTES) {
        (out.Body as Readable | undefined)?.destroy();
        return `<${out.ContentLength} bytes>`;
      }
      try {
        return (await out.Body?.transformToString('utf8')) ?? '';
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  /**
   * A conditional put (`If-None-Match: *`): S3 (since 2024-08), MinIO and most current
   * S3-compatible servers create the object only when it is absent and answer 412 (or 409 for a
   * concurrent conditional write) otherwise, so exactly one writer wins. Servers that answer 501
   * get a HEAD then an unconditional put. Servers that silently ignore the header (s3rver does)
   * overwrite: then several first starts at the same instant can each read back their own id,
   * and the last write stays; the losers refuse at their next start. `bindBlobStore` reads back.
   */
  async writeMarkerIfAbsent(content: string): Promise<boolean> {
    const put = (conditional: boolean) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.markerKey(),
          Body: content,
          ContentType: 'application/json',
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
    try {
      await put(true);
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      if (status === 412 || status === 409 || e.name === 'PreconditionFailed' || e.name === 'ConditionalRequestConflict') return false;
      if (status !== 501 && e.name !== 'NotImplemented') throw err;
    }
    if ((await this.readMarker()) !== undefined) return false;
    await put(false);
    return true;
  }

  /** One listing of up to `limit` (at most 1000) keys under `<prefix>/0x`. */
  async sampleBlobs(limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${base}0x`, MaxKeys: Math.min(limit, 1000) }));
    return (page.Contents ?? []).map((o) => (o.Key ?? '').slice(base.length)).filter((h) => HASH_RE.test(h));
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private markerKey(): string {
    return this.prefix === '' ? STORE_MARKER_NAME : `${this.prefix}/${STORE_MARKER_NAME}`;
  }

  private async get(hash: string) {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
    } catch (err) {
      if (isNotFound(err)) throw new DomainError('not_found', `no blob ${hash}`);
      throw unavailable(`read of blob ${hash}`, err);
    }
  }

  private async head(hash: string) {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw unavailable(`lookup of blob ${hash}`, err);
    }
  }

  /** Runs one S3 call; a transport failure becomes a {@link BlobStoreUnavailableError}. */
  private async unavailableAs<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw unavailable(what, err);
    }
  }
}

/** `err` as a {@link BlobStoreUnavailableError} when S3 was unreachable, slow or overloaded; else `err` itself. */
function unavailable(what: string, err: unknown): unknown {
  if (err instanceof BlobStoreUnavailableError || !isObjectStoreUnavailable(err)) return err;
  const e = err as { name?: string; message?: string };
  return new BlobStoreUnavailableError(`object store unavailable: ${what} failed (${e.name ?? 'Error'}: ${e.message ?? String(err)})`, { cause: err });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
