import type { Readable } from 'node:stream';
import { DomainError } from '@jam/domain';
import type { BlobEntry, BlobStore, BlobStoreMaintenance, PutResult } from './blob-store.port';
import type { FilesystemBlobStore } from './filesystem-blob-store';
import type { S3BlobStore } from './s3-blob-store';

/**
 * S3 offload (threat model "Storage Bloat"): blobs of at least `minBytes` live in the object
 * store, smaller ones on the filesystem. A put lands on the filesystem first (hash-verified,
 * size-capped), and a large blob is then uploaded to S3 (hash-verified again) and its local copy
 * removed; `PutResult.tier` says where it ended. Reads do not depend on the recorded tier: they
 * try the filesystem, then S3, so a blob the migrator is moving is readable throughout.
 * Each tier has its own marker (`.jam-store-id`): bind both with `bindBlobStore` before use.
 */
export class TieredBlobStore implements BlobStore, BlobStoreMaintenance {
  /** Default tier of a write; see `PutResult.tier` for where a given blob went. */
  readonly tier = 'fs' as const;

  constructor(
    readonly local: FilesystemBlobStore,
    readonly remote: S3BlobStore,
    /** `s3_offload_min_bytes` */
    readonly minBytes: number,
    /** Called when an offload at upload time fails; the blob then stays on the filesystem. */
    private readonly onOffloadError: (err: unknown, hash: string) => void = () => undefined,
  ) {}

  async put(hash: string, body: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    const res = await this.local.put(hash, body, opts);
    if (res.length < this.minBytes) return { ...res, tier: 'fs' };
    try {
      const up = await this.offload(hash, res.length);
      return { created: res.created && up.created, length: res.length, tier: 's3' };
    } catch (err) {
      // An S3 outage must not fail an upload the filesystem already holds, verified: keep it
      // local and let the janitor's migrator move it once S3 answers again.
      this.onOffloadError(err, hash);
      return { ...res, tier: 'fs' };
    }
  }

  /**
   * Uploads the local blob to S3 (re-hashed on the way) and removes the local copy.
   * @throws DomainError('not_found') when there is no local copy; S3 errors (the local copy stays).
   */
  async offload(hash: string, length: number): Promise<PutResult> {
    const { stream } = await this.local.getStream(hash);
    const up = await this.remote.put(hash, stream, { maxBytes: length });
    await this.local.delete(hash);
    return up;
  }

  async getBytes(hash: string): Promise<Uint8Array> {
    return this.either(
      () => this.local.getBytes(hash),
      () => this.remote.getBytes(hash),
    );
  }

  async getStream(hash: string): Promise<{ length: number; stream: Readable }> {
    return this.either(
      () => this.local.getStream(hash),
      () => this.remote.getStream(hash),
    );
  }

  async has(hash: string): Promise<boolean> {
    return (await this.local.has(hash)) || (await this.remote.has(hash));
  }

  async delete(hash: string): Promise<void> {
    await this.local.delete(hash);
    await this.remote.delete(hash);
  }

  async deleteUnlessFresh(hash: string, freshSince: Date): Promise<boolean> {
    const a = await this.local.deleteUnlessFresh(hash, freshSince);
    const b = await this.remote.deleteUnlessFresh(hash, freshSince);
    return a || b;
  }

  async sweepTmp(olderThanMs: number): Promise<number> {
    return (await this.local.sweepTmp(olderThanMs)) + (await this.remote.sweepTmp(olderThanMs));
  }

  async recoverTrash(): Promise<number> {
    return this.local.recoverTrash();
  }

  /** Both tiers, shard by shard (filesystem then S3 within a shard), so bounded scans and the verifier's sample cover both. */
  async *entries(startShard: number): AsyncGenerator<BlobEntry> {
    for (let i = 0; i < 256; i++) {
      const shard = (startShard + i) & 0xff;
      yield* this.local.shardEntries(shard);
      yield* this.remote.shardEntries(shard);
    }
  }

  async verify(hash: string): Promise<'ok' | 'corrupt' | 'missing'> {
    const v = await this.local.verify(hash);
    return v === 'missing' ? this.remote.verify(hash) : v;
  }

  private async either<T>(first: () => Promise<T>, second: () => Promise<T>): Promise<T> {
    try {
      return await first();
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'not_found')) throw err;
    }
    return second();
  }
}
