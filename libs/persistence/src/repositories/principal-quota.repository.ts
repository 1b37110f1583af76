import type { DataSource } from 'typeorm';
import type { PrincipalQuotaEntity } from '../entities/principal-quota.entity';
import { checkLimit, queryOne, queryRows } from '../sql-runner';

/** One principal's quota overrides; a null field falls back to the global setting. */
export interface PrincipalQuotaRecord {
  principal: string;
  /** Unfinished packages this principal may have; null = `max_pending_packages`. */
  maxPendingPackages: number | null;
  updatedAt: Date;
}

/** Largest page {@link PrincipalQuotaRepository.list} returns. */
export const PRINCIPAL_QUOTA_LIST_MAX_LIMIT = 1000;

const COLUMNS = `principal, max_pending_packages AS "maxPendingPackages", updated_at AS "updatedAt"`;

/** Table `principal_quota`: per-principal overrides set through the admin API. */
export class PrincipalQuotaRepository {
  constructor(private readonly ds: DataSource) {}

  /** @returns the override, or null when the principal uses the global settings. */
  async get(principal: string): Promise<PrincipalQuotaRecord | null> {
    return queryOne<PrincipalQuotaEntity>(this.ds, `SELECT ${COLUMNS} FROM principal_quota WHERE principal = $1`, [principal]);
  }

  /** Creates or replaces the override. @param input.maxPendingPackages >= 0, or null for the global setting. */
  async upsert(input: { principal: string; maxPendingPackages: number | null }): Promise<PrincipalQuotaRecord> {
    const row = await queryOne<PrincipalQuotaEntity>(
      this.ds,
      `INSERT INTO principal_quota (principal, max_pending_packages) VALUES ($1, $2)
       ON CONFLICT (principal) DO UPDATE SET max_pending_packages = EXCLUDED.max_pending_packages, updated_at = now()
       RETURNING ${COLUMNS}`,
      [input.principal, input.maxPendingPackages],
    );
    if (!row) throw new Error('INSERT ... RETURNING returned no row');
    return row;
  }

  /** @returns true if an override was removed. */
  async delete(principal: string): Promise<boolean> {
    return (await queryOne(this.ds, 'DELETE FROM principal_quota WHERE principal = $1 RETURNING 1 AS ok', [principal])) !== null;
  }

  /** Keyset page in principal order: principals after `after`. @throws RangeError for a bad limit. */
  async list(opts: { after?: string; limit: number }): Promise<PrincipalQuotaRecord[]> {
    checkLimit(opts.limit, PRINCIPAL_QUOTA_LIST_MAX_LIMIT);
    return queryRows<PrincipalQuotaEntity>(
      this.ds,
      `SELECT ${COLUMNS} FROM principal_quota WHERE ($1::text IS NULL OR principal > $1) ORDER BY principal LIMIT $2`,
      [opts.after ?? null, opts.limit],
    );
  }
}
