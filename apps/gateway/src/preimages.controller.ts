import { pipeline } from 'node:stream';
import { Controller, Get, Head, Inject, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '@jam/domain';
import { BlobCorruptError, createVerifyingStream } from '@jam/blob-store';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam } from './request-params';
import { AccessPolicy } from './access.policy';
import { UploadSlots } from './upload-slots';

/**
 * Preimages: content-addressed blobs (docs/architecture.md section 5). Reads are allowed to the preimage's
 * uploaders and to the principals of services whose code it is ({@link AccessPolicy}); anyone
 * authenticated may upload, within the per-principal caps `max_concurrent_uploads` and
 * `max_stored_preimage_bytes` (admin overrides in `principal_quota`).
 */
@Controller('jam/preimages')
@UseGuards(BearerTokenGuard)
export class PreimagesController {
  /** Uploads in flight per principal, in this process. */
  private readonly uploads = new UploadSlots();

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * Stores raw bytes under their Blake2b-256 hash. 201 new, 200 already stored; 422
   * `hash_mismatch`; 413 `payload_too_large` before reading when Content-Length exceeds
   * `max_preimage_bytes`, or as soon as a streamed body passes it.
   * Per-principal caps, checked before any body byte is read: 429 `quota_exceeded`
   * (`details.quota: "max_concurrent_uploads"`, `limit`) while the principal already has that
   * many uploads in flight on this gateway process; 413 `storage_quota_exceeded`
   * (`details.quota: "max_stored_preimage_bytes"`, `limit_bytes`, `stored_bytes`) when the upload
   * would take the principal's stored preimage bytes past its quota (from Content-Length before
   * reading, else as soon as the streamed body passes the remaining room). Re-uploading a
   * preimage the principal already uploaded costs no quota.
   * The uploader is recorded (a second uploader of the same bytes may read them too). Under
   * authorization, 201/200 say whether *this principal* had uploaded the bytes before, so the
   * status never tells whether another tenant stored them. A successful PUT clears a corrupt mark.
   */
  @Put(':hash')
  async put(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    const max = this.deps.maxPreimageBytes;
    const rawDeclared = req.headers['content-length'];
    const declared = rawDeclared === undefined ? undefined : Number(rawDeclared);
    if (declared !== undefined && declared > max) {
      this.deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      throw new DomainError('payload_too_large', `preimage of ${declared} bytes exceeds max_preimage_bytes (${max})`, { max_bytes: max });
    }
    const override = await this.deps.principalQuotas.get(req.principal);
    const slots = override?.maxConcurrentUploads ?? this.deps.maxConcurrentUploads;
    const release = this.uploads.tryAcquire(req.principal, slots);
    if (release === undefined) this.concurrentExceeded(req.principal, slots);
    this.deps.metrics.uploadsInFlight.inc();
    try {
      await this.putWithin(hash, declared, override?.maxStoredPreimageBytes ?? this.deps.maxStoredPreimageBytes, req, res);
    } finally {
      release();
      this.deps.metrics.uploadsInFlight.dec();
    }
  }

  /** The body of {@link put} once the upload holds a slot; `limit` = the principal's max_stored_preimage_bytes (bytes). */
  private async putWithin(hash: string, declared: number | undefined, limit: number, req: AuthedRequest, res: Response): Promise<void> {
    const max = this.deps.maxPreimageBytes;
    let cap = max;
    let quota: { limit: number; stored: number } | undefined;
    if (!(await this.deps.preimages.isUploader(hash, req.principal))) {
      const stored = await this.deps.preimages.storedBytesOf(req.principal);
      const room = Math.max(0, limit - stored);
      if (declared !== undefined && declared > room) this.storageExceeded(req.principal, limit, stored, declared);
      if (room < cap) {
        cap = room;
        quota = { limit, stored };
      }
    }
    let put;
    try {
      put = await this.deps.blobs.put(hash, req, { maxBytes: cap });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'payload_too_large') {
        if (quota !== undefined) this.storageExceeded(req.principal, quota.limit, quota.stored, undefined);
        this.deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      }
      throw err;
    }
    const { created } = await this.deps.preimages.insertIfAbsent({
      hash,
      length: put.length,
      storageTier: put.tier ?? this.deps.blobs.tier,
      uploadedBy: req.principal,
    });
    const { added } = await this.deps.preimages.addUploader(hash, req.principal);
    if (await this.deps.preimages.clearCorrupt(hash))
      this.deps.logger.warn({ hash, tokenHash: req.tokenHash }, 'corrupt preimage repaired by a verified upload');
    this.deps.logger.info({ hash, length: put.length, created, tokenHash: req.tokenHash }, 'preimage stored');
    res.status((this.access.restricted(req) ? added : created) ? 201 : 200).json({ hash, length: put.length });
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

  @Get(':hash/meta')
  async meta(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    const hash = hashParam(rawHash);
    await this.access.assertPreimage(req, hash);
    const row = await this.deps.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    return {
      hash: row.hash,
      length: Number(row.length),
      refcount: row.refcount,
      storage_tier: row.storageTier,
      created_at: row.createdAt,
      corrupt_at: row.corruptAt,
    };
  }

  /**
   * The bytes (GET): Content-Length = the recorded length, ETag = hash. Verified while streamed
   * ({@link createVerifyingStream}): bytes that do not hash to `{hash}` abort the response before
   * its last chunk (the client sees a truncated body, never a complete corrupt one), mark the
   * preimage `corrupt_at`, count `jam_blobs_corrupt_total` and log an error. The store's stream
   * is destroyed whenever the response ends early (client gone, timeout), so an aborted download
   * never keeps an S3 connection.
   */
  @Get(':hash')
  async get(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    await this.access.assertPreimage(req, hash);
    const row = await this.deps.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    const { stream } = await this.deps.blobs.getStream(hash);
    const length = Number(row.length);
    res.status(200).set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(length), ETag: `"${hash}"` });
    pipeline(stream, createVerifyingStream(hash, length), res, (err) => {
      if (!err) return;
      if (err instanceof BlobCorruptError) {
        this.deps.metrics.blobsCorrupt.inc();
        this.deps.logger.error(
          { hash, found: err.found, storageTier: row.storageTier },
          'corrupt blob found while serving it; response aborted and preimage marked corrupt',
        );
        this.deps.preimages.markCorrupt(hash).catch((markErr: unknown) => this.deps.logger.error({ err: markErr, hash }, 'could not mark a corrupt preimage'));
      } else if (!res.writableFinished) {
        this.deps.logger.info({ hash, reason: (err as NodeJS.ErrnoException).code ?? err.message }, 'preimage download ended early');
      }
    });
  }

  @Head(':hash')
  async head(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    await this.access.assertPreimage(req, hash);
    const row = await this.deps.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    res
      .status(200)
      .set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(row.length), ETag: `"${hash}"` })
      .end();
  }
}
