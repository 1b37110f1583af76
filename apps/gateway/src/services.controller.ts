import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { DomainError, PACKAGE_STATUSES, fromHex, isPackageStatus, toHex } from '@jam/domain';
import type { ServiceRecord } from '@jam/persistence';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { limitParam, optionalString, readBody, serviceIdParam } from './request-params';
import { parseJsonBody } from './json-body';
import { packageView } from './packages.controller';
import { AccessPolicy } from './access.policy';
import { CodeCheckLimiter } from './code-check.limiter';

const gas = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,20}$/)]).transform((v) => BigInt(v));
const createServiceSchema = z
  .object({
    code_hash: z.string().regex(/^0x[0-9a-f]{64}$/, 'must be 0x + 64 lowercase hex digits'),
    delegates: z.array(z.string().min(1).max(64)).max(64).default([]),
    min_item_gas: gas.default('0'),
    min_memo_gas: gas.default('0'),
  })
  .strict();

/** Service JSON as served by the API. */
export function serviceView(s: ServiceRecord) {
  return {
    id: s.id,
    code_hash: s.codeHash,
    owner: s.owner,
    delegates: s.delegates,
    min_item_gas: Number(s.minItemGas),
    min_memo_gas: Number(s.minMemoGas),
    created_at: s.createdAt,
  };
}

/**
 * Services: registration, listing, storage reads (docs/architecture.md section 5). Under `authz_enabled`
 * a principal lists and reads only services it owns or is a delegate of ({@link AccessPolicy}).
 */
@Controller('jam/services')
@UseGuards(BearerTokenGuard)
export class ServicesController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly access: AccessPolicy,
    private readonly codeChecks: CodeCheckLimiter,
  ) {}

  /**
   * Registers a service whose code is a stored preimage that passes the registration check. The
   * check (validation, metering, compiling every function, instantiating) runs in a sandbox
   * executor, never on this event loop, and nothing of the code runs. 201 with the service, owned
   * by the caller; 422 `unknown_preimage` (also when the code is a preimage the caller may not
   * read) or `invalid_code` with the exact reason; 429 `rate_limited` with `Retry-After` when the
   * caller already has `max_code_checks_per_principal` checks in flight, or this process
   * `max_queued_code_checks` (`details.scope` `code_checks` / `code_check_queue`).
   */
  @Post()
  @HttpCode(201)
  async create(@Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const body = parseJsonBody(await readBody(req, 64 * 1024), createServiceSchema);
    if (!(await this.access.canReadPreimage(req, body.code_hash)))
      throw new DomainError('unknown_preimage', `code ${body.code_hash} is not a stored preimage; upload it with PUT /jam/preimages/${body.code_hash}`);
    try {
      await this.codeChecks.run(req.principal, async () => this.deps.checkServiceCode(body.code_hash, await this.deps.blobs.getBytes(body.code_hash)));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'rate_limited') {
        this.deps.metrics.rateLimited.inc({ scope: String(err.details?.['scope']) });
        res.setHeader('Retry-After', String(this.codeChecks.limits.retryAfterSeconds));
      }
      throw err;
    }
    const service = await this.deps.services.create({
      codeHash: body.code_hash,
      owner: req.principal,
      delegates: body.delegates,
      minItemGas: body.min_item_gas,
      minMemoGas: body.min_memo_gas,
    });
    await this.deps.preimages.incrementRefcount(body.code_hash);
    this.deps.logger.info({ serviceId: service.id, codeHash: body.code_hash, tokenHash: req.tokenHash }, 'service registered');
    return serviceView(service);
  }

  @Get()
  async list(@Req() req: AuthedRequest, @Query('limit') limit: unknown, @Query('cursor') cursor: unknown) {
    const n = limitParam(limit);
    const c = optionalString(cursor, 'cursor');
    if (c !== undefined && !/^\d{1,10}$/.test(c)) throw new DomainError('invalid_request', 'cursor is not one this API issued');
    const member = this.access.restricted(req) ? req.principal : undefined;
    const items = await this.deps.services.list({ afterId: c === undefined ? undefined : Number(c), limit: n + 1, member });
    const page = items.slice(0, n);
    return { items: page.map(serviceView), next_cursor: items.length > n ? String(page[page.length - 1]!.id) : null };
  }

  @Get(':id')
  async get(@Param('id') rawId: string, @Req() req: AuthedRequest) {
    return serviceView(await this.access.service(req, serviceIdParam(rawId)));
  }

  /**
   * One storage value; `key` is hex (`0x` optional), 0 to 256 bytes (`0x` alone is the empty key,
   * which a service's `write` may use). 400 `invalid_hex`; 404 `not_found` when absent.
   */
  @Get(':id/storage/:key')
  async storage(@Param('id') rawId: string, @Param('key') rawKey: string, @Req() req: AuthedRequest) {
    const id = serviceIdParam(rawId);
    const keyHex = rawKey.startsWith('0x') ? rawKey.toLowerCase() : `0x${rawKey.toLowerCase()}`;
    if (!/^0x([0-9a-f]{2}){0,256}$/.test(keyHex)) throw new DomainError('invalid_hex', 'storage key must be 0 to 256 bytes of hex (0x alone is the empty key)');
    await this.access.service(req, id);
    const value = await this.deps.serviceStorage.getStorage(id, fromHex(keyHex));
    if (value === null) throw new DomainError('not_found', `service ${id} has no value at key ${keyHex}`);
    return { service_id: id, key: keyHex, value: toHex(value) };
  }

  /** Packages that touch this service, newest first, keyset-paged; optional `status` filter. */
  @Get(':id/packages')
  async packages(
    @Param('id') rawId: string,
    @Req() req: AuthedRequest,
    @Query('status') status: unknown,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ) {
    const id = serviceIdParam(rawId);
    const st = optionalString(status, 'status');
    if (st !== undefined && !isPackageStatus(st)) throw new DomainError('invalid_request', `status must be one of ${PACKAGE_STATUSES.join(', ')}`);
    await this.access.service(req, id);
    const page = await this.deps.workPackages.listByService(id, { status: st, cursor: optionalString(cursor, 'cursor'), limit: limitParam(limit) });
    return { items: page.items.map(packageView), next_cursor: page.nextCursor };
  }
}
