import { Controller, Get, Head, Inject, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '@jam/domain';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { hashParam } from './request-params';
import { AccessPolicy } from './access.policy';

/**
 * Preimages: content-addressed blobs (docs/architecture.md section 5). Reads are allowed to the preimage's
 * uploaders and to the principals of services whose code it is ({@link AccessPolicy}); anyone
 * authenticated may upload.
 */
@Controller('jam/preimages')
@UseGuards(BearerTokenGuard)
export class PreimagesController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * Stores raw bytes under their Blake2b-256 hash. 201 new, 200 already stored; 422
   * `hash_mismatch`; 413 `payload_too_large` before reading when Content-Length exceeds
   * `max_preimage_bytes`, or as soon as a streamed body passes it.
   * The uploader is recorded (a second uploader of the same bytes may read them too). Under
   * authorization, 201/200 say whether *this principal* had uploaded the bytes before, so the
   * status never tells whether another tenant stored them.
   */
  @Put(':hash')
  async put(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    const max = this.deps.maxPreimageBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) {
      this.deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      throw new DomainError('payload_too_large', `preimage of ${declared} bytes exceeds max_preimage_bytes (${max})`, { max_bytes: max });
    }
    let put;
    try {
      put = await this.deps.blobs.put(hash, req, { maxBytes: max });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'payload_too_large') this.deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      throw err;
    }
    const { created } = await this.deps.preimages.insertIfAbsent({ hash, length: put.length, storageTier: put.tier ?? this.deps.blobs.tier, uploadedBy: req.principal });
    const { added } = await this.deps.preimages.addUploader(hash, req.principal);
    this.deps.logger.info({ hash, length: put.length, created, tokenHash: req.tokenHash }, 'preimage stored');
    res.status((this.access.restricted(req) ? added : created) ? 201 : 200).json({ hash, length: put.length });
  }

  @Get(':hash/meta')
  async meta(@Param('hash') rawHash: string, @Req() req: AuthedRequest) {
    const hash = hashParam(rawHash);
    await this.access.assertPreimage(req, hash);
    const row = await this.deps.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    return { hash: row.hash, length: Number(row.length), refcount: row.refcount, storage_tier: row.storageTier, created_at: row.createdAt };
  }

  /** The bytes (GET) or just the headers (HEAD): Content-Length, ETag = hash. */
  @Get(':hash')
  async get(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const { stream, length, hash } = await this.open(rawHash, req);
    res.status(200).set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(length), ETag: `"${hash}"` });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  @Head(':hash')
  async head(@Param('hash') rawHash: string, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const hash = hashParam(rawHash);
    await this.access.assertPreimage(req, hash);
    const row = await this.deps.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    res.status(200).set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(row.length), ETag: `"${hash}"` }).end();
  }

  private async open(rawHash: string, req: AuthedRequest) {
    const hash = hashParam(rawHash);
    await this.access.assertPreimage(req, hash);
    const row = await this.deps.preimages.get(hash);
    if (!row) throw new DomainError('not_found', `no preimage ${hash}`);
    const { stream, length } = await this.deps.blobs.getStream(hash);
    return { stream, length, hash };
  }
}
