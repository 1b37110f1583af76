import { JamClient, normalizeHash } from './jam.client';
import { JamClientError } from './jam-client.errors';
import { PRINCIPAL_PATTERN, ROUTES, routePath } from '@jam/http-contract';
import type {
  AuditEntry,
  DisputePage,
  HexString,
  JamClientOptions,
  ListAuditRequest,
  Page,
  PageRequest,
  PackageInfo,
  QuotaOverride,
  QuotaPage,
  QuotaRemoved,
  ResolveDisputeRequest,
  Service,
} from './jam-client.types';

/**
 * Typed client of the admin API (`/admin/*`, docs/security-authz.md): delegates, per-principal
 * quotas, dispute resolution and the audit log. `token` must be an admin token (`admin_tokens`),
 * sent from an address in `admin_ip_allowlist`; the server answers 401 `unauthorized` for any other
 * token (a `/jam` token included), 403 `forbidden` for an address outside the allowlist, and 404
 * `not_found` for an unknown service or package, each thrown as `JamApiError`. Arguments are
 * checked before any I/O (`JamClientError` `invalid_argument`).
 */
export class JamAdminClient extends JamClient {
  constructor(options: JamClientOptions) {
    super(options);
  }

  /** `PUT /admin/services/{id}/delegates/{principal}` (idempotent): the service afterwards. */
  async addDelegate(serviceId: number, principal: string): Promise<Service> {
    return this.sendJson<Service>(ROUTES.addDelegate.method, routePath(ROUTES.addDelegate, { id: u32(serviceId), principal: principalArg(principal) }));
  }

  /** `DELETE /admin/services/{id}/delegates/{principal}` (idempotent): the service afterwards. */
  async removeDelegate(serviceId: number, principal: string): Promise<Service> {
    return this.sendJson<Service>(ROUTES.removeDelegate.method, routePath(ROUTES.removeDelegate, { id: u32(serviceId), principal: principalArg(principal) }));
  }

  /** `GET /admin/quotas`: one page of overrides in principal order, and the server-wide default. */
  async listQuotas(page: PageRequest = {}): Promise<QuotaPage> {
    return this.getJson<QuotaPage>(routePath(ROUTES.listQuotas, {}), { limit: page.limit, cursor: page.cursor });
  }

  /** `PUT /admin/quotas/{principal}`: `maxPendingPackages` unfinished packages (0 refuses every submission; null = the default). */
  async setQuota(principal: string, maxPendingPackages: number | null): Promise<QuotaOverride> {
    if (maxPendingPackages !== null && (!Number.isInteger(maxPendingPackages) || maxPendingPackages < 0)) {
      throw new JamClientError('invalid_argument', `max_pending_packages must be a non-negative integer or null, got ${maxPendingPackages}`);
    }
    return this.sendJson<QuotaOverride>(ROUTES.setQuota.method, routePath(ROUTES.setQuota, { principal: principalArg(principal) }), {
      max_pending_packages: maxPendingPackages,
    });
  }

  /** `DELETE /admin/quotas/{principal}`: `removed` false when there was no override. */
  async removeQuota(principal: string): Promise<QuotaRemoved> {
    return this.sendJson<QuotaRemoved>(ROUTES.removeQuota.method, routePath(ROUTES.removeQuota, { principal: principalArg(principal) }));
  }

  /** `GET /admin/disputes`: disputed packages, newest first, with each report hash and its signer count. */
  async listDisputes(page: PageRequest = {}): Promise<DisputePage> {
    return this.getJson<DisputePage>(routePath(ROUTES.listDisputes, {}), { limit: page.limit, cursor: page.cursor });
  }

  /**
   * `POST /admin/disputes/{package_hash}/resolve`: accept one of the package's reports (the package
   * goes to `attested` and on to accumulation) or reject it (`failed`, `dispute_rejected`).
   * 409 `conflict` unless the package is disputed; 400 `invalid_request` for a report of another package.
   */
  async resolveDispute(packageHash: HexString, request: ResolveDisputeRequest): Promise<PackageInfo> {
    const body = request.decision === 'accept' ? { decision: 'accept', report_hash: normalizeHash(request.report_hash) } : request;
    return this.sendJson<PackageInfo>(ROUTES.resolveDispute.method, routePath(ROUTES.resolveDispute, { packageHash: normalizeHash(packageHash) }), body);
  }

  /**
   * `POST /admin/packages/{hash}/retry`: runs any failed package again under the same rules and
   * bound (`max_package_retries`) as its owners' `retryPackage`; audited as `package.retry`.
   * 409 `conflict` unless failed, `retry_limit_reached`; 422 `not_retryable` for a guest outcome.
   */
  async adminRetryPackage(packageHash: HexString): Promise<PackageInfo> {
    return this.sendJson<PackageInfo>(ROUTES.adminRetryPackage.method, routePath(ROUTES.adminRetryPackage, { packageHash: normalizeHash(packageHash) }));
  }

  /** `GET /admin/audit`: newest first; pass `next_cursor` back as `cursor`; `action` filters (`quota.set`, ...). */
  async listAudit(request: ListAuditRequest = {}): Promise<Page<AuditEntry>> {
    return this.getJson<Page<AuditEntry>>(routePath(ROUTES.listAudit, {}), { limit: request.limit, cursor: request.cursor, action: request.action });
  }
}

function principalArg(principal: string): string {
  if (!PRINCIPAL_PATTERN.test(principal)) {
    throw new JamClientError('invalid_argument', `principal must be 1 to 64 characters of A-Z a-z 0-9 _ . @ : -, got ${JSON.stringify(principal)}`);
  }
  return principal;
}

function u32(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new JamClientError('invalid_argument', `service id must be a u32, got ${id}`);
  return String(id);
}
