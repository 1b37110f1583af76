import type { AuditLogRecord, PrincipalQuotaRecord, ServiceRecord, WorkPackageSummary } from '@jam/persistence';

/** Package JSON as served by the API (`packageInfoSchema` of `@jam/http-contract`). */
export function packageView(p: WorkPackageSummary) {
  return {
    hash: p.hash,
    status: p.status,
    service_ids: p.serviceIds,
    report_hash: p.reportHash ?? null,
    error: p.errorCode ? { code: p.errorCode, message: p.errorMessage ?? '' } : null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    accumulated_at: p.accumulatedAt ?? null,
    retries: p.retries,
  };
}

/** Service JSON as served by the API (`serviceSchema` of `@jam/http-contract`). */
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

/** One quota override as served by the admin API (`quotaOverrideSchema`). */
export function quotaView(q: PrincipalQuotaRecord) {
  return {
    principal: q.principal,
    max_pending_packages: q.maxPendingPackages,
    max_concurrent_uploads: q.maxConcurrentUploads,
    max_stored_preimage_bytes: q.maxStoredPreimageBytes,
    updated_at: q.updatedAt,
  };
}

/** One audit row as served by the admin API (`auditEntrySchema`). */
export function auditView(e: AuditLogRecord) {
  return { id: e.id, at: e.at, action: e.action, target: e.target, outcome: e.outcome, actor_token_hash: e.actorTokenHash, details: e.details };
}
