import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@jam/domain';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { AccessPolicy } from './access.policy';
import { UploadSlots } from './upload-slots';
import type { Caller as Submitter } from './access.policy';

/** What {@link PreimageUpload.store} stored: the length in bytes, and whether the bytes are new to the caller (201 rather than 200). */
export interface StoredPreimage {
  hash: string;
  /** bytes */
  length: number;
  /** New (201): to the store, or under authorization to this principal, so the answer never tells whether another tenant stored them. */
  isNew: boolean;
}

/**
 * The one preimage upload path of the gateway, used by `PUT /jam/preimages/{hash}` and JIP-2
 * `submitPreimage` / `submitWorkPackage` extrinsics alike: `max_preimage_bytes`, the
 * per-principal caps `max_concurrent_uploads` (slots held in this process) and
 * `max_stored_preimage_bytes` (admin overrides in `principal_quota`), the hash check of the blob
 * store, the uploader record and the corrupt-mark repair.
 */
@Injectable()
export class PreimageUpload {
  /** Uploads in flight per principal, in this process (HTTP and RPC share them). */
  private readonly uploads = new UploadSlots();

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * Stores `body` under `hash` (0x hex Blake2b-256) for `caller`.
   * @param declared the announced length in bytes (Content-Length), checked before any byte is read; undefined = unknown
   * @throws DomainError('payload_too_large' (details.max_bytes) | 'quota_exceeded' (details.quota max_concurrent_uploads) |
   *   'storage_quota_exceeded' (details.quota max_stored_preimage_bytes) | 'hash_mismatch')
   */
  async store(caller: Submitter, hash: string, body: AsyncIterable<Uint8Array>, declared: number | undefined): Promise<StoredPreimage> {
    const max = this.deps.maxPreimageBytes;
    if (declared !== undefined && declared > max) {
      this.deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      throw new DomainError('payload_too_large', `preimage of ${declared} bytes exceeds max_preimage_bytes (${max})`, { max_bytes: max });
    }
    const override = await this.deps.principalQuotas.get(caller.principal);
    const slots = override?.maxConcurrentUploads ?? this.deps.maxConcurrentUploads;
    const release = this.uploads.tryAcquire(caller.principal, slots);
    if (release === undefined) this.concurrentExceeded(caller.principal, slots);
    this.deps.metrics.uploadsInFlight.inc();
    try {
      return await this.storeWithin(caller, hash, body, declared, override?.maxStoredPreimageBytes ?? this.deps.maxStoredPreimageBytes);
    } finally {
      release();
      this.deps.metrics.uploadsInFlight.dec();
    }
  }

  /** The body of {@link store} once the upload holds a slot; `limit` = the principal's max_stored_preimage_bytes (bytes). */
  private async storeWithin(
    caller: Submitter,
    hash: string,
    body: AsyncIterable<Uint8Array>,
    declared: number | undefined,
    limit: number,
  ): Promise<StoredPreimage> {
    const max = this.deps.maxPreimageBytes;
    let cap = max;
    let quota: { limit: number; stored: number } | undefined;
    if (!(await this.deps.preimages.isUploader(hash, caller.principal))) {
      const stored = await this.deps.preimages.storedBytesOf(caller.principal);
      const room = Math.max(0, limit - stored);
      if (declared !== undefined && declared > room) this.storageExceeded(caller.principal, limit, stored, declared);
      if (room < cap) {
        cap = room;
        quota = { limit, stored };
      }
    }
    let put;
    try {
      put = await this.deps.blobs.put(hash, body, { maxBytes: cap });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'payload_too_large') {
        if (quota !== undefined) this.storageExceeded(caller.principal, quota.limit, quota.stored, undefined);
        this.deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      }
      throw err;
    }
    const { created } = await this.deps.preimages.insertIfAbsent({
      hash,
      length: put.length,
      storageTier: put.tier ?? this.deps.blobs.tier,
      uploadedBy: caller.principal,
    });
    const { added } = await this.deps.preimages.addUploader(hash, caller.principal);
    if (await this.deps.preimages.clearCorrupt(hash))
      this.deps.logger.warn({ hash, tokenHash: caller.tokenHash }, 'corrupt preimage repaired by a verified upload');
    this.deps.logger.info({ hash, length: put.length, created, tokenHash: caller.tokenHash }, 'preimage stored');
    return { hash, length: put.length, isNew: this.access.restricted(caller) ? added : created };
  }

  private concurrentExceeded(principal: string, limit: number): never {
    this.deps.metrics.quotaRejected.inc({ quota: 'max_concurrent_uploads' });
    throw new DomainError(
      'quota_exceeded',
      `${principal} already has ${this.uploads.inFlight(principal)} uploads in flight (max_concurrent_uploads ${limit}); wait for one to finish`,
      {
        quota: 'max_concurrent_uploads',
        limit,
        in_flight: this.uploads.inFlight(principal),
      },
    );
  }

  private storageExceeded(principal: string, limit: number, stored: number, upload: number | undefined): never {
    this.deps.metrics.quotaRejected.inc({ quota: 'max_stored_preimage_bytes' });
    const size = upload === undefined ? 'this upload' : `an upload of ${upload} bytes`;
    throw new DomainError(
      'storage_quota_exceeded',
      `${principal} stores ${stored} bytes of preimages; ${size} would pass max_stored_preimage_bytes (${limit})`,
      {
        quota: 'max_stored_preimage_bytes',
        limit_bytes: limit,
        stored_bytes: stored,
        ...(upload === undefined ? {} : { upload_bytes: upload }),
      },
    );
  }
}
