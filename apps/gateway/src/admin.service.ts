import { Injectable } from '@nestjs/common';
import { DomainError } from '@jam/domain';
import {
  AuditLogRepository,
  PrincipalQuotaRepository,
  ServiceRepository,
  type AuditLogRecord,
  type PrincipalQuotaPatch,
  type PrincipalQuotaRecord,
  type ServiceRecord,
} from '@jam/persistence';
import { GatewayLimits } from './gateway.providers';

/**
 * The admin API's state changes and reads besides disputes (threat model "Abuse of Admin
 * Controls"): service delegates, per-principal quota overrides and the audit log.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly services: ServiceRepository,
    private readonly principalQuotas: PrincipalQuotaRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly limits: GatewayLimits,
  ) {}

  /** Adds (`add`) or removes a delegate of a service (idempotent). @throws DomainError('not_found') for an unknown service. */
  async setDelegate(id: number, principal: string, add: boolean): Promise<ServiceRecord> {
    const s = add ? await this.services.addDelegate(id, principal) : await this.services.removeDelegate(id, principal);
    if (!s) throw new DomainError('not_found', `no service ${id}`);
    return s;
  }

  /** One page of quota overrides in principal order (`after` = the last principal of the previous page) and the global defaults. */
  async listQuotas(after: string | undefined, limit: number) {
    const rows = await this.principalQuotas.list({ after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      items: page,
      nextCursor: rows.length > limit ? page[page.length - 1]!.principal : null,
      defaults: {
        maxPendingPackages: this.limits.maxPendingPackages,
        maxConcurrentUploads: this.limits.maxConcurrentUploads,
        maxStoredPreimageBytes: this.limits.maxStoredPreimageBytes,
      },
    };
  }

  /** Sets the given overrides of one principal (null = back to the global setting); the others are kept. */
  async setQuota(patch: PrincipalQuotaPatch): Promise<PrincipalQuotaRecord> {
    return this.principalQuotas.upsert(patch);
  }

  /** Removes a principal's overrides; false when it had none. */
  async removeQuota(principal: string): Promise<boolean> {
    return this.principalQuotas.delete(principal);
  }

  /** The audit log, newest first (`beforeId` = the last id of the previous page). */
  async audit(query: {
    beforeId: string | undefined;
    limit: number;
    action: string | undefined;
  }): Promise<{ items: AuditLogRecord[]; nextCursor: string | null }> {
    const rows = await this.auditLog.list({ beforeId: query.beforeId, limit: query.limit + 1, action: query.action });
    const page = rows.slice(0, query.limit);
    return { items: page, nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }
}
