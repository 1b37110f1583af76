import { Injectable } from '@nestjs/common';
import { DomainError } from '@jam/domain';
import { PreimageRepository, ServiceRepository, WorkPackageRepository, type ServiceRecord, type WorkPackageRecord } from '@jam/persistence';
import type { AuthedRequest } from './bearer-token.guard';
import { AuthSettings } from './gateway.providers';

/** The authenticated caller of a request, as services see it (set by the guards on the request). */
export type Caller = Pick<AuthedRequest, 'principal' | 'tokenHash' | 'tokenDigest' | 'isAdmin'>;

/**
 * Per-service authorization (`authz_enabled`; threat model "Unauthorized Access" and "Data
 * Exfiltration"). A service is used by its owner (the principal that registered it) and its
 * delegates; admin tokens pass. Whatever a principal may not use is answered exactly like
 * something that does not exist (404 `not_found`, same message), so nothing tells a tenant
 * whether another tenant's service, package, report or preimage exists.
 *
 * - services, their storage and package lists: owner or delegate;
 * - a package and its report: its submitter, or a principal that uses any of its services;
 * - a preimage: its uploaders (every principal that PUT the bytes), and the owner and delegates
 *   of every service whose code it is.
 */
@Injectable()
export class AccessPolicy {
  constructor(
    private readonly settings: AuthSettings,
    private readonly services: ServiceRepository,
    private readonly preimages: PreimageRepository,
    private readonly workPackages: WorkPackageRepository,
  ) {}

  /** Whether per-service checks apply to this request (authz on and not an admin token). */
  restricted(req: Caller): boolean {
    return this.settings.authzEnabled && !req.isAdmin;
  }

  usesService(req: Caller, s: ServiceRecord): boolean {
    return !this.restricted(req) || s.owner === req.principal || s.delegates.includes(req.principal);
  }

  /** @throws DomainError('not_found') when the service is missing or not the caller's. */
  async service(req: Caller, id: number): Promise<ServiceRecord> {
    const s = await this.services.get(id);
    if (!s || !this.usesService(req, s)) throw new DomainError('not_found', `no service ${id}`);
    return s;
  }

  /** Whether the caller may read (or reference) the preimage; false for an unknown hash. */
  async canReadPreimage(req: Caller, hash: string): Promise<boolean> {
    if (!this.restricted(req)) return this.preimages.exists(hash);
    return this.preimages.isReadableBy(hash, req.principal);
  }

  /** @throws DomainError('not_found') when the preimage is missing or not readable by the caller. */
  async assertPreimage(req: Caller, hash: string): Promise<void> {
    if (!(await this.canReadPreimage(req, hash))) throw new DomainError('not_found', `no preimage ${hash}`);
  }

  /** @throws DomainError('not_found') when the package is missing or not visible to the caller. */
  async workPackage(req: Caller, hash: string): Promise<WorkPackageRecord> {
    const row = await this.workPackages.get(hash);
    if (!row || !(await this.seesPackage(req, row))) throw new DomainError('not_found', `no package ${hash}`);
    return row;
  }

  private async seesPackage(req: Caller, row: WorkPackageRecord): Promise<boolean> {
    if (!this.restricted(req) || row.submittedBy === req.principal) return true;
    for (const id of row.serviceIds) {
      const s = await this.services.get(id);
      if (s && this.usesService(req, s)) return true;
    }
    return false;
  }
}
