import { pipeline } from 'node:stream';
import { Controller, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ROUTES } from '@jam/http-contract';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam } from './request-params';
import { Endpoint } from './endpoint.decorator';
import { PreimageUploadService } from './preimage-upload.service';

/**
 * Preimages: content-addressed blobs (docs/architecture.md section 5); the rules are
 * {@link PreimageUploadService}'s.
 */
@Controller()
@UseGuards(BearerTokenGuard)
export class PreimagesController {
  constructor(private readonly preimages: PreimageUploadService) {}

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
  @Endpoint(ROUTES.putPreimage)
  async put(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    const rawDeclared = req.headers['content-length'];
    const declared = rawDeclared === undefined ? undefined : Number(rawDeclared);
    const stored = await this.preimages.put(req, hash, declared, req);
    res.status(stored.created ? 201 : 200).json({ hash: stored.hash, length: stored.length });
  }

  @Endpoint(ROUTES.preimageMeta)
  async meta(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    const row = await this.preimages.meta(req, hashParam(rawHash));
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
   * The bytes (GET): Content-Length = the recorded length, ETag = hash, verified while streamed
   * (the client sees a truncated body, never a complete corrupt one). The store's stream is
   * destroyed whenever the response ends early (client gone, timeout), so an aborted download
   * never keeps an S3 connection.
   */
  @Endpoint(ROUTES.getPreimage)
  async get(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    const download = await this.preimages.download(req, hash);
    res.status(200).set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(download.length), ETag: `"${hash}"` });
    pipeline(download.source, download.verifier, res, (err) => download.ended(err, res.writableFinished));
  }

  @Endpoint(ROUTES.headPreimage)
  async head(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    const row = await this.preimages.meta(req, hash);
    res
      .status(200)
      .set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(row.length), ETag: `"${hash}"` })
      .end();
  }
}
