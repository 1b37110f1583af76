import { pipeline } from 'node:stream';
import { Controller, Get, Head, Inject, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '@jam/domain';
import { BlobCorruptError, createVerifyingStream } from '@jam/blob-store';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam } from './request-params';
import { AccessPolicy } from './access.policy';
import { PreimageUpload } from './preimage-upload';

/**
 * Preimages: content-addressed blobs (docs/architecture.md section 5). Reads are allowed to the preimage's
 * uploaders and to the principals of services whose code it is ({@link AccessPolicy}); anyone
 * authenticated may upload, within the per-principal caps `max_concurrent_uploads` and
 * `max_stored_preimage_bytes` (admin overrides in `principal_quota`).
 */
@Controller('jam/preimages')
@UseGuards(BearerTokenGuard)
export class PreimagesController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
    private readonly upload: PreimageUpload,
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
    const rawDeclared = req.headers['content-length'];
    const stored = await this.upload.store(req, hash, req, rawDeclared === undefined ? undefined : Number(rawDeclared));
    res.status(stored.isNew ? 201 : 200).json({ hash, length: stored.length });
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
