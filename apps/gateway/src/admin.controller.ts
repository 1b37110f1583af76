import { Controller, HttpCode, Param, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { DomainError } from '@jam/domain';
import { AUDIT_LOG_LIST_MAX_LIMIT } from '@jam/persistence';
import { MAX_SMALL_BODY_BYTES, PRINCIPAL_PATTERN, ROUTES, quotaBodySchema, resolveDisputeBodySchema } from '@jam/http-contract';
import type { AuthedRequest } from './bearer-token.guard';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminAction, AdminAuditInterceptor } from './admin-audit.interceptor';
import { hashParam, limitParam, optionalString, readBody, serviceIdParam } from './request-params';
import { parseJsonBody } from './json-body';
import { auditView, packageView, quotaView, serviceView } from './api-views';
import { Endpoint } from './endpoint.decorator';
import { AdminService } from './admin.service';
import { DisputeResolutionService } from './dispute-resolution.service';
import { PackageRetryService } from './package-retry.service';

/**
 * Route prefix of the admin API. The admin rate limit (`admin_rate_limit_per_minute`) keys on it.
 * WARNING: operators' firewall and ingress rules name this path.
 */
export const ADMIN_ROUTE_PREFIX = '/admin';

function principalParam(value: string): string {
  if (!PRINCIPAL_PATTERN.test(value))
    throw new DomainError('invalid_request', 'principal must be 1 to 64 characters of A-Z a-z 0-9 _ . @ : -', { param: 'principal' });
  return value;
}

/**
 * The admin API (threat model "Abuse of Admin Controls", "Conflicting Reports"): delegates,
 * per-principal quotas, dispute resolution and the audit log. Every route needs an admin token
 * from an allowlisted address ({@link AdminTokenGuard}) and every request is audited
 * ({@link AdminAuditInterceptor}).
 */
@Controller()
@UseGuards(AdminTokenGuard)
@UseInterceptors(AdminAuditInterceptor)
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly disputes: DisputeResolutionService,
    private readonly retries: PackageRetryService,
  ) {}

  /** Adds a delegate to a service (idempotent). 200 with the service; 404 for an unknown service. */
  @Endpoint(ROUTES.addDelegate)
  @AdminAction('delegate.add')
  async addDelegate(@Param('id') rawId: string, @Param('principal') rawPrincipal: string) {
    const id = serviceIdParam(rawId);
    return serviceView(await this.admin.setDelegate(id, principalParam(rawPrincipal), true));
  }

  /** Removes a delegate from a service (idempotent). 200 with the service; 404 for an unknown service. */
  @Endpoint(ROUTES.removeDelegate)
  @AdminAction('delegate.remove')
  async removeDelegate(@Param('id') rawId: string, @Param('principal') rawPrincipal: string) {
    const id = serviceIdParam(rawId);
    return serviceView(await this.admin.setDelegate(id, principalParam(rawPrincipal), false));
  }

  /** Quota overrides, in principal order; `cursor` is the last principal of the previous page. */
  @Endpoint(ROUTES.listQuotas)
  @AdminAction('quota.list')
  async listQuotas(@Query('limit') limit: unknown, @Query('cursor') cursor: unknown) {
    const n = limitParam(limit);
    const page = await this.admin.listQuotas(optionalString(cursor, 'cursor'), n);
    return {
      items: page.items.map(quotaView),
      next_cursor: page.nextCursor,
      default_max_pending_packages: page.defaults.maxPendingPackages,
      default_max_concurrent_uploads: page.defaults.maxConcurrentUploads,
      default_max_stored_preimage_bytes: page.defaults.maxStoredPreimageBytes,
    };
  }

  /**
   * Sets one principal's overrides. Body: any of `{max_pending_packages, max_concurrent_uploads,
   * max_stored_preimage_bytes}` (bytes), each a number >= 0 or null (back to the global
   * setting); fields left out keep their value. 400 for an empty body or an unknown field.
   */
  @Endpoint(ROUTES.setQuota)
  @AdminAction('quota.set')
  async setQuota(@Param('principal') rawPrincipal: string, @Req() req: AuthedRequest) {
    const body = parseJsonBody(await readBody(req, MAX_SMALL_BODY_BYTES), quotaBodySchema);
    return quotaView(
      await this.admin.setQuota({
        principal: principalParam(rawPrincipal),
        ...(body.max_pending_packages !== undefined ? { maxPendingPackages: body.max_pending_packages } : {}),
        ...(body.max_concurrent_uploads !== undefined ? { maxConcurrentUploads: body.max_concurrent_uploads } : {}),
        ...(body.max_stored_preimage_bytes !== undefined ? { maxStoredPreimageBytes: body.max_stored_preimage_bytes } : {}),
      }),
    );
  }

  /** Removes a principal's override. 200 `{principal, removed}`. */
  @Endpoint(ROUTES.removeQuota)
  @AdminAction('quota.remove')
  async removeQuota(@Param('principal') rawPrincipal: string) {
    const principal = principalParam(rawPrincipal);
    return { principal, removed: await this.admin.removeQuota(principal) };
  }

  /** Disputed packages, newest first, with the conflicting report hashes and their signer counts. */
  @Endpoint(ROUTES.listDisputes)
  @AdminAction('dispute.list')
  async listDisputes(@Query('limit') limit: unknown, @Query('cursor') cursor: unknown) {
    const page = await this.disputes.list({ cursor: optionalString(cursor, 'cursor'), limit: limitParam(limit) });
    return {
      items: page.items.map((d) => ({ ...packageView(d.pkg), submitted_by: d.pkg.submittedBy, reports: d.reports })),
      next_cursor: page.nextCursor,
      threshold: this.disputes.threshold,
    };
  }

  /**
   * Resolves a disputed package (threat model "Admin/manual dispute resolution hook"):
   * `{decision: "accept", report_hash}` picks one of the package's stored reports and it goes on
   * to accumulate; `{decision: "reject", reason?}` fails it (`dispute_rejected`). 409 `conflict`
   * unless the package is disputed; 400 `invalid_request` for a report that is not one of the package's.
   */
  @Endpoint(ROUTES.resolveDispute)
  @HttpCode(200)
  @AdminAction('dispute.resolve')
  async resolveDispute(@Param('packageHash') raw: string, @Req() req: AuthedRequest) {
    const packageHash = hashParam(raw, 'package_hash');
    const body = parseJsonBody(await readBody(req, MAX_SMALL_BODY_BYTES), resolveDisputeBodySchema);
    return packageView(await this.disputes.resolve(packageHash, body, req.tokenHash));
  }

  /**
   * Retries any failed package, as POST /jam/packages/{hash}/retry does for its owners (same
   * rules, same bound `max_package_retries`, same answers); audited as `package.retry`.
   */
  @Endpoint(ROUTES.adminRetryPackage)
  @HttpCode(202)
  @AdminAction('package.retry')
  async retryPackage(@Param('packageHash') raw: string) {
    return packageView(await this.retries.retry(hashParam(raw, 'package_hash')));
  }

  /** The audit log, newest first; `cursor` is the `next_cursor` of the previous page; optional `action` filter. */
  @Endpoint(ROUTES.listAudit)
  @AdminAction('audit.list')
  async audit(@Query('limit') limit: unknown, @Query('cursor') cursor: unknown, @Query('action') action: unknown) {
    const n = Math.min(limitParam(limit), AUDIT_LOG_LIST_MAX_LIMIT);
    const c = optionalString(cursor, 'cursor');
    if (c !== undefined && !/^[1-9]\d{0,18}$/.test(c)) throw new DomainError('invalid_request', 'cursor is not one this API issued');
    const page = await this.admin.audit({ beforeId: c, limit: n, action: optionalString(action, 'action') });
    return { items: page.items.map(auditView), next_cursor: page.nextCursor };
  }
}
