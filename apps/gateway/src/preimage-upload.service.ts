import type { Readable, Transform } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@jam/domain';
import { BlobCorruptError, createVerifyingStream, type BlobStore } from '@jam/blob-store';
import { PreimageRepository, PrincipalQuotaRepository, type PreimageRecord } from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { AccessPolicy, type Caller } from './access.policy';
import { BLOB_STORE, GatewayLimits, LOGGER } from './gateway.providers';
import { UploadSlots } from './upload-slots';

/** A stored preimage upload: `created` says whether this principal (under authorization) or anyone stored it first now. */
export interface PreimageStored {
  hash: string;
  /** bytes */
  length: number;
  created: boolean;
}

/** A download being served: the store's stream, the hash check to pipe it through, and what to do when the pipe ends. */
export interface PreimageDownload {
  /** bytes, the recorded length (the Content-Length to send) */
  length: number;
  source: Readable;
  verifier: Transform;
  /** Call with the pipeline's error (or null) and whether the response finished. */
  ended(err: Error | null | undefined, responseFinished: boolean): void;
}

/**
 * Preimages: content-addressed blobs (docs/architecture.md section 5). Reads are allowed to the
 * preimage's uploaders and to the principals of services whose code it is ({@link AccessPolicy});
 * anyone authenticated may upload, within the per-principal caps `max_concurrent_uploads` and
 * `max_stored_preimage_bytes` (admin overrides in `principal_quota`).
 */
@Injectable()
export class PreimageUploadService {
  /** Uploads in flight per principal, in this process. */
  private readonly uploads = new UploadSlots();

  constructor(
    private readonly preimages: PreimageRepository,
    private readonly principalQuotas: PrincipalQuotaRepository,
    private readonly access: AccessPolicy,
    private readonly limits: GatewayLimits,
    private readonly metrics: JamMetrics,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Stores the body under its Blake2b-256 hash, within the caller's caps (checked before any body
   * byte is read where Content-Length allows). The uploader is recorded; a successful upload
   * clears a corrupt mark.
   * @param declared Content-Length in bytes, if sent
   * @throws DomainError `payload_too_large` (413, past `max_preimage_bytes`), `quota_exceeded`
   *   (429, `max_concurrent_uploads`), `storage_quota_exceeded` (413, `max_stored_preimage_bytes`),
   *   `hash_mismatch` (422)
   */
  async put(caller: Caller, hash: string, declared: number | undefined, body: Readable): Promise<PreimageStored> {
    const max = this.limits.maxPreimageBytes;
    if (declared !== undefined && declared > max) {
      this.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      throw new DomainError('payload_too_large', `preimage of ${declared} bytes exceeds max_preimage_bytes (${max})`, { max_bytes: max });
    }
    const override = await this.principalQuotas.get(caller.principal);
    const slots = override?.maxConcurrentUploads ?? this.limits.maxConcurrentUploads;
    const release = this.uploads.tryAcquire(caller.principal, slots);
    if (release === undefined) this.concurrentExceeded(caller.principal, slots);
    this.metrics.uploadsInFlight.inc();
    try {
      return await this.putWithin(caller, hash, declared, override?.maxStoredPreimageBytes ?? this.limits.maxStoredPreimageBytes, body);
    } finally {
      release();
      this.metrics.uploadsInFlight.dec();
    }
  }

  /** The body of {@link put} once the upload holds a slot; `limit` = the principal's max_stored_preimage_bytes (bytes). */
  private async putWithin(caller: Caller, hash: string, declared: number | undefined, limit: number, body: Readable): Promise<PreimageStored> {
    let cap = this.limits.maxPreimageBytes;
    let quota: { limit: number; stored: number } | undefined;
    if (!(await this.preimages.isUploader(hash, caller.principal))) {
      const stored = await this.preimages.storedBytesOf(caller.principal);
      const room = Math.max(0, limit - stored);
      if (declared !== undefined && declared > room) this.storageExceeded(caller.principal, limit, stored, declared);
      if (room < cap) {
        cap = room;
        quota = { limit, stored };
      }
    }
    let put;
    try {
      put = await this.blobs.put(hash, body, { maxBytes: cap });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'payload_too_large') {
        if (quota !== undefined) this.storageExceeded(caller.principal, quota.limit, quota.stored, undefined);
        this.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      }
      throw err;
    }
    const { created } = await this.preimages.insertIfAbsent({
      hash,
      length: put.length,
      storageTier: put.tier ?? this.blobs.tier,
      uploadedBy: caller.principal,
    });
    const { added } = await this.preimages.addUploader(hash, caller.principal);
    if (await this.preimages.clearCorrupt(hash)) this.logger.warn({ hash, tokenHash: caller.tokenHash }, 'corrupt preimage repaired by a verified upload');
    this.logger.info({ hash, length: put.length, created, tokenHash: caller.tokenHash }, 'preimage stored');
    return { hash, length: put.length, created: this.access.restricted(caller) ? added : created };
  }

  private concurrentExceeded(principal: string, limit: number): never {
    this.metrics.quotaRejected.inc({ quota: 'max_concurrent_uploads' });
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
    this.metrics.quotaRejected.inc({ quota: 'max_stored_preimage_bytes' });
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

  /** The preimage's row. @throws DomainError('not_found') when missing or not readable by the caller. */
  async meta(caller: Caller, hash: string): Promise<PreimageRecord> {
    await this.access.assertPreimage(caller, hash);
    const row = await this.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    return row;
  }

  /**
   * Opens the bytes for download, verified while streamed ({@link createVerifyingStream}): bytes
   * that do not hash to `hash` abort the response before its last chunk, mark the preimage
   * `corrupt_at`, count `jam_blobs_corrupt_total` and log an error.
   * @throws DomainError('not_found') when missing or not readable by the caller
   */
  async download(caller: Caller, hash: string): Promise<PreimageDownload> {
    const row = await this.meta(caller, hash);
    const { stream } = await this.blobs.getStream(hash);
    const length = Number(row.length);
    return {
      length,
      source: stream,
      verifier: createVerifyingStream(hash, length),
      ended: (err, responseFinished) => {
        if (!err) return;
        if (err instanceof BlobCorruptError) {
          this.metrics.blobsCorrupt.inc();
          this.logger.error(
            { hash, found: err.found, storageTier: row.storageTier },
            'corrupt blob found while serving it; response aborted and preimage marked corrupt',
          );
          this.preimages.markCorrupt(hash).catch((markErr: unknown) => this.logger.error({ err: markErr, hash }, 'could not mark a corrupt preimage'));
        } else if (!responseFinished) {
          this.logger.info({ hash, reason: (err as NodeJS.ErrnoException).code ?? err.message }, 'preimage download ended early');
        }
      },
    };
  }
}
