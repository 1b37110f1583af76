import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { z } from 'zod';
import { DomainError, PACKAGE_TRANSITIONS as T } from '@jam/domain';
import { ACCUMULATE_REPORT_JOB } from '@jam/queue-contracts';
import { enqueue } from '@jam/queue';
import { AUDIT_LOG_LIST_MAX_LIMIT, type AuditLogRecord, type PrincipalQuotaRecord } from '@jam/persistence';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import type { AuthedRequest } from './bearer-token.guard';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminAction, AdminAuditInterceptor } from './admin-audit.interceptor';
import { hashParam, limitParam, optionalString, readBody, serviceIdParam } from './request-params';
import { parseJsonBody } from './json-body';
import { serviceView } from './services.controller';
import { packageView } from './packages.controller';
import { retryFailedPackage } from './package-retry';

/**
 * Route prefix of the admin API. The admin rate limit (`admin_rate_limit_per_minute`) keys on it.
 * WARNING: operators' firewall and ingress rules name this path.
 */
export const ADMIN_ROUTE_PREFIX = '/admin';

const PRINCIPAL_RE = /^[A-Za-z0-9_.@:-]{1,64}$/;

function principalParam(value: string): string {
  if (!PRINCIPAL_RE.test(value))
    throw new DomainError('invalid_request', 'principal must be 1 to 64 characters of A-Z a-z 0-9 _ . @ : -', { param: 'principal' });
  return value;
}

/** A change to a principal's overrides: the fields given are set (null = back to the global setting), the others kept. */
const quotaSchema = z
  .object({
    max_pending_packages: z.number().int().min(0).max(10_000_000).nullable().optional(),
    max_concurrent_uploads: z.number().int().min(0).max(100_000).nullable().optional(),
    max_stored_preimage_bytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 50)
      .nullable()
      .optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of max_pending_packages, max_concurrent_uploads, max_stored_preimage_bytes');
const resolveSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept'), report_hash: z.string().regex(/^0x[0-9a-f]{64}$/, 'must be 0x + 64 lowercase hex digits') }).strict(),
  z.object({ decision: z.literal('reject'), reason: z.string().min(1).max(500).optional() }).strict(),
]);

function quotaView(q: PrincipalQuotaRecord) {
  return {
    principal: q.principal,
    max_pending_packages: q.maxPendingPackages,
    max_concurrent_uploads: q.maxConcurrentUploads,
    max_stored_preimage_bytes: q.maxStoredPreimageBytes,
    updated_at: q.updatedAt,
  };
}

function auditView(e: AuditLogRecord) {
  return { id: e.id, at: e.at, action: e.action, target: e.target, outcome: e.outcome, actor_token_hash: e.actorTokenHash, details: e.details };
}

/**
 * The admin API (threat model "Abuse of Admin Controls", "Conflicting Reports"): delegates,
 * per-principal quotas, dispute resolution and the audit log. Every route needs an admin token
 * from an allowlisted address ({@link AdminTokenGuard}) and every request is audited
 * ({@link AdminAuditInterceptor}).
 */
@Controller('admin')
@UseGuards(AdminTokenGuard)
@UseInterceptors(AdminAuditInterceptor)
export class AdminController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** Adds a delegate to a service (idempotent). 200 with the service; 404 for an unknown service. */
  @Put('services/:id/delegates/:principal')
  @AdminAction('delegate.add')
  async addDelegate(@Param('id') rawId: string, @Param('principal') rawPrincipal: string) {
    const id = serviceIdParam(rawId);
    const s = await this.deps.services.addDelegate(id, principalParam(rawPrincipal));
    if (!s) throw new DomainError('not_found', `no service ${id}`);
    return serviceView(s);
  }

  /** Removes a delegate from a service (idempotent). 200 with the service; 404 for an unknown service. */
  @Delete('services/:id/delegates/:principal')
  @AdminAction('delegate.remove')
  async removeDelegate(@Param('id') rawId: string, @Param('principal') rawPrincipal: string) {
    const id = serviceIdParam(rawId);
    const s = await this.deps.services.removeDelegate(id, principalParam(rawPrincipal));
    if (!s) throw new DomainError('not_found', `no service ${id}`);
    return serviceView(s);
  }

  /** Quota overrides, in principal order; `cursor` is the last principal of the previous page. */
  @Get('quotas')
  @AdminAction('quota.list')
  async listQuotas(@Query('limit') limit: unknown, @Query('cursor') cursor: unknown) {
    const n = limitParam(limit);
    const after = optionalString(cursor, 'cursor');
    const rows = await this.deps.principalQuotas.list({ after, limit: n + 1 });
    const page = rows.slice(0, n);
    return {
      items: page.map(quotaView),
      next_cursor: rows.length > n ? page[page.length - 1]!.principal : null,
      default_max_pending_packages: this.deps.maxPendingPackages,
      default_max_concurrent_uploads: this.deps.maxConcurrentUploads,
      default_max_stored_preimage_bytes: this.deps.maxStoredPreimageBytes,
    };
  }

  /**
   * Sets one principal's overrides. Body: any of `{max_pending_packages, max_concurrent_uploads,
   * max_stored_preimage_bytes}` (bytes), each a number >= 0 or null (back to the global
   * setting); fields left out keep their value. 400 for an empty body or an unknown field.
   */
  @Put('quotas/:principal')
  @AdminAction('quota.set')
  async setQuota(@Param('principal') rawPrincipal: string, @Req() req: AuthedRequest) {
    const body = parseJsonBody(await readBody(req, 4096), quotaSchema);
    return quotaView(
      await this.deps.principalQuotas.upsert({
        principal: principalParam(rawPrincipal),
        ...(body.max_pending_packages !== undefined ? { maxPendingPackages: body.max_pending_packages } : {}),
        ...(body.max_concurrent_uploads !== undefined ? { maxConcurrentUploads: body.max_concurrent_uploads } : {}),
        ...(body.max_stored_preimage_bytes !== undefined ? { maxStoredPreimageBytes: body.max_stored_preimage_bytes } : {}),
      }),
    );
  }

  /** Removes a principal's override. 200 `{principal, removed}`. */
  @Delete('quotas/:principal')
  @AdminAction('quota.remove')
  async removeQuota(@Param('principal') rawPrincipal: string) {
    const principal = principalParam(rawPrincipal);
    return { principal, removed: await this.deps.principalQuotas.delete(principal) };
  }

  /** Disputed packages, newest first, with the conflicting report hashes and their signer counts. */
  @Get('disputes')
  @AdminAction('dispute.list')
  async listDisputes(@Query('limit') limit: unknown, @Query('cursor') cursor: unknown) {
    const page = await this.deps.workPackages.listByStatus('disputed', { cursor: optionalString(cursor, 'cursor'), limit: limitParam(limit) });
    const items = [];
    for (const p of page.items) {
      const tallies = await this.deps.attestations.reportHashesForPackage(p.hash);
      items.push({ ...packageView(p), submitted_by: p.submittedBy, reports: tallies.map((t) => ({ report_hash: t.reportHash, signers: t.signers })) });
    }
    return { items, next_cursor: page.nextCursor, threshold: this.deps.attestationThreshold };
  }

  /**
   * Resolves a disputed package (threat model "Admin/manual dispute resolution hook"):
   * `{decision: "accept", report_hash}` picks one of the package's stored reports; the package
   * moves disputed -> attested with that report and its accumulate job is enqueued (the same job
   * id the attestation processor uses, so it runs at most once). `{decision: "reject", reason?}`
   * moves it disputed -> failed (`dispute_rejected`). 409 `conflict` unless the package is
   * disputed; 400 `invalid_request` for a report that is not one of the package's.
   */
  @Post('disputes/:packageHash/resolve')
  @HttpCode(200)
  @AdminAction('dispute.resolve')
  async resolveDispute(@Param('packageHash') raw: string, @Req() req: AuthedRequest) {
    const packageHash = hashParam(raw, 'package_hash');
    const body = parseJsonBody(await readBody(req, 4096), resolveSchema);
    const row = await this.deps.workPackages.get(packageHash);
    if (!row) throw new DomainError('not_found', `no package ${packageHash}`);
    if (row.status !== 'disputed') throw new DomainError('conflict', `package ${packageHash} is ${row.status}, not disputed`, { status: row.status });
    if (body.decision === 'accept') {
      const report = await this.deps.workReports.get(body.report_hash);
      if (!report || report.packageHash !== packageHash)
        throw new DomainError('invalid_request', `report ${body.report_hash} is not a report of package ${packageHash}`);
      if (!(await this.deps.workPackages.transition(packageHash, T.acceptDispute.from, T.acceptDispute.to, { reportHash: body.report_hash }))) {
        throw new DomainError('conflict', `package ${packageHash} changed status while resolving`);
      }
      // After the commit, like every enqueue; if it fails the reconciler re-enqueues attested packages.
      try {
        await enqueue(this.deps.queue, ACCUMULATE_REPORT_JOB, { report_hash: body.report_hash, package_hash: packageHash }, { priority: row.queuePriority });
      } catch (err) {
        this.deps.logger.error({ err, packageHash }, 'enqueue of resolved dispute failed; the reconciler will retry');
      }
      this.deps.logger.warn({ packageHash, reportHash: body.report_hash, tokenHash: req.tokenHash }, 'dispute resolved: report accepted');
    } else {
      const reason = body.reason ?? 'rejected by an administrator';
      if (
        !(await this.deps.workPackages.transition(packageHash, T.rejectDispute.from, T.rejectDispute.to, {
          errorCode: 'dispute_rejected',
          errorMessage: reason,
        }))
      ) {
        throw new DomainError('conflict', `package ${packageHash} changed status while resolving`);
      }
      this.deps.logger.warn({ packageHash, tokenHash: req.tokenHash }, 'dispute resolved: package rejected');
    }
    const after = await this.deps.workPackages.get(packageHash);
    return packageView(after!);
  }

  /**
   * Retries any failed package, as POST /jam/packages/{hash}/retry does for its owners (same
   * rules, same bound `max_package_retries`, same answers); audited as `package.retry`.
   */
  @Post('packages/:packageHash/retry')
  @HttpCode(202)
  @AdminAction('package.retry')
  async retryPackage(@Param('packageHash') raw: string) {
    return packageView(await retryFailedPackage(this.deps, hashParam(raw, 'package_hash')));
  }

  /** The audit log, newest first; `cursor` is the `next_cursor` of the previous page; optional `action` filter. */
  @Get('audit')
  @AdminAction('audit.list')
  async audit(@Query('limit') limit: unknown, @Query('cursor') cursor: unknown, @Query('action') action: unknown) {
    const n = Math.min(limitParam(limit), AUDIT_LOG_LIST_MAX_LIMIT);
    const c = optionalString(cursor, 'cursor');
    if (c !== undefined && !/^[1-9]\d{0,18}$/.test(c)) throw new DomainError('invalid_request', 'cursor is not one this API issued');
    const rows = await this.deps.auditLog.list({ beforeId: c, limit: n + 1, action: optionalString(action, 'action') });
    const page = rows.slice(0, n);
    return { items: page.map(auditView), next_cursor: rows.length > n ? page[page.length - 1]!.id : null };
  }
}
