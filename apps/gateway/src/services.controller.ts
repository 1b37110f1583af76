import { Controller, HttpCode, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, PACKAGE_STATUSES, isPackageStatus, toHex } from '@jam/domain';
import { MAX_CREATE_SERVICE_BODY_BYTES, ROUTES, createServiceBodySchema } from '@jam/http-contract';
import { BearerTokenGuard, type AuthedRequest } from './bearer-token.guard';
import { limitParam, optionalString, readBody, serviceIdParam } from './request-params';
import { parseJsonBody } from './json-body';
import { packageView, serviceView } from './api-views';
import { Endpoint } from './endpoint.decorator';
import { ServiceRegistrationService } from './service-registration.service';

export { serviceView } from './api-views';

/** Services: registration, listing, storage reads (docs/architecture.md section 5); the rules are {@link ServiceRegistrationService}'s. */
@Controller()
@UseGuards(BearerTokenGuard)
export class ServicesController {
  constructor(private readonly registry: ServiceRegistrationService) {}

  /**
   * Registers a service whose code is a stored preimage that passes the registration check. The
   * check (validation, metering, compiling every function, instantiating) runs in a sandbox
   * executor, never on this event loop, and nothing of the code runs. 201 with the service, owned
   * by the caller; 422 `unknown_preimage` (also when the code is a preimage the caller may not
   * read) or `invalid_code` with the exact reason; 429 `rate_limited` with `Retry-After` when the
   * caller already has `max_code_checks_per_principal` checks in flight, or this process
   * `max_queued_code_checks` (`details.scope` `code_checks` / `code_check_queue`).
   */
  @Endpoint(ROUTES.createService)
  @HttpCode(201)
  async create(@Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const body = parseJsonBody(await readBody(req, MAX_CREATE_SERVICE_BODY_BYTES), createServiceBodySchema);
    try {
      const service = await this.registry.register(req, {
        codeHash: body.code_hash,
        delegates: body.delegates,
        minItemGas: body.min_item_gas,
        minMemoGas: body.min_memo_gas,
      });
      return serviceView(service);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'rate_limited') res.setHeader('Retry-After', String(this.registry.retryAfterSeconds));
      throw err;
    }
  }

  @Endpoint(ROUTES.listServices)
  async list(@Req() req: AuthedRequest, @Query('limit') limit: unknown, @Query('cursor') cursor: unknown) {
    const n = limitParam(limit);
    const c = optionalString(cursor, 'cursor');
    if (c !== undefined && !/^\d{1,10}$/.test(c)) throw new DomainError('invalid_request', 'cursor is not one this API issued');
    const page = await this.registry.list(req, c === undefined ? undefined : Number(c), n);
    return { items: page.items.map(serviceView), next_cursor: page.nextCursor };
  }

  @Endpoint(ROUTES.getService)
  async get(@Param('id') rawId: string, @Req() req: AuthedRequest) {
    return serviceView(await this.registry.get(req, serviceIdParam(rawId)));
  }

  /**
   * One storage value; `key` is hex (`0x` optional), 0 to 256 bytes (`0x` alone is the empty key,
   * which a service's `write` may use). 400 `invalid_hex`; 404 `not_found` when absent.
   */
  @Endpoint(ROUTES.getStorage)
  async storage(@Param('id') rawId: string, @Param('key') rawKey: string, @Req() req: AuthedRequest) {
    const id = serviceIdParam(rawId);
    const keyHex = rawKey.startsWith('0x') ? rawKey.toLowerCase() : `0x${rawKey.toLowerCase()}`;
    if (!/^0x([0-9a-f]{2}){0,256}$/.test(keyHex)) throw new DomainError('invalid_hex', 'storage key must be 0 to 256 bytes of hex (0x alone is the empty key)');
    const value = await this.registry.storage(req, id, keyHex);
    return { service_id: id, key: keyHex, value: toHex(value) };
  }

  /** Packages that touch this service, newest first, keyset-paged; optional `status` filter. */
  @Endpoint(ROUTES.listServicePackages)
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
    // The service is checked before the paging parameters are read (a 404 wins over a bad limit).
    const service = await this.registry.get(req, id);
    const page = await this.registry.packages(service, { status: st, cursor: optionalString(cursor, 'cursor'), limit: limitParam(limit) });
    return { items: page.items.map(packageView), next_cursor: page.nextCursor };
  }
}
