import type { DataSource } from 'typeorm';
import type { PrincipalQuotaEntity } from '../entities/principal-quota.entity';
import { checkLimit, queryOne, queryRows } from '../sql-runner';

/** One principal's quota overrides; a null field falls back to the global setting. */
export interface PrincipalQuotaRecord {
  principal: string;
  /** Unfinished packages this principal may have; null = `max_pending_packages`. */
  maxPendingPackages: number | null;
  /** Uploads this principal may have in flight at once (per gateway process); null = `max_concurrent_uploads`. */
  maxConcurrentUploads: number | null;
  /** Bytes of preimages this principal may have stored (each preimage it uploaded counts whole); null = `max_stored_preimage_bytes`. */
  maxStoredPreimageBytes: number | null;
  updatedAt: Date;
}

/** A change to one principal's overrides: a field left out keeps its value; null = back to the global setting. */
export interface PrincipalQuotaPatch {
  principal: string;
  maxPendingPackages?: number | null;
  maxConcurrentUploads?: number | null;
  /** bytes, a safe integer >= 0 */
  maxStoredPreimageBytes?: number | null;
}

/** Largest page {@link PrincipalQuotaRepository.list} returns. */
export const PRINCIPAL_QUOTA_LIST_MAX_LIMIT = 1000;

const COLUMNS = `principal, max_pending_packages AS "maxPendingPackages", max_concurrent_uploads AS "maxConcurrentUploads",
  max_stored_preimage_bytes AS "maxStoredPreimageBytes", updated_at AS "updatedAt"`;

function toRecord(row: PrincipalQuotaEntity): PrincipalQuotaRecord {
  return {
    principal: row.principal,
    maxPendingPackages: row.maxPendingPackages,
    maxConcurrentUploads: row.maxConcurrentUploads,
    maxStoredPreimageBytes: row.maxStoredPreimageBytes === null ? null : Number(row.maxStoredPreimageBytes),
    updatedAt: row.updatedAt,
  };
}

/** Table `principal_quota`: per-principal overrides set through the admin API. */
export class PrincipalQuotaRepository {
  constructor(private readonly ds: DataSource) {}

  /** @returns the override, or null when the principal uses the global settings. */
  async get(principal: string): Promise<PrincipalQuotaRecord | null> {
    const row = await queryOne<PrincipalQuotaEntity>(this.ds, `SELECT ${COLUMNS} FROM principal_quota WHERE principal = $1`, [principal]);
    return row && toRecord(row);
  }

  /**
   * Creates the override or changes the fields given in `input` (the others keep their value;
   * a new row starts with every field null = the global settings). Values are >= 0 or null.
   * @throws the database's check violation for a negative value.
   */
  async upsert(input: PrincipalQuotaPatch): Promise<PrincipalQuotaRecord> {
    // $n::boolean says whether the field was given, so "left out" and "null" differ.
    const row = await queryOne<PrincipalQuotaEntity>(
      this.ds,
      `INSERT INTO principal_quota (principal, max_pending_packages, max_concurrent_uploads, max_stored_preimage_bytes) VALUES ($1, $3, $5, $7)
       ON CONFLICT (principal) DO UPDATE SET
         max_pending_packages = CASE WHEN $2::boolean THEN EXCLUDED.max_pending_packages ELSE principal_quota.max_pending_packages END,
         max_concurrent_uploads = CASE WHEN $4::boolean THEN EXCLUDED.max_concurrent_uploads ELSE principal_quota.max_concurrent_uploads END,
         max_stored_preimage_bytes = CASE WHEN $6::boolean THEN EXCLUDED.max_stored_preimage_bytes ELSE principal_quota.max_stored_preimage_bytes END,
         updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        input.principal,
        input.maxPendingPackages !== undefined,
        input.maxPendingPackages ?? null,
        input.maxConcurrentUploads !== undefined,
        input.maxConcurrentUploads ?? null,
        input.maxStoredPreimageBytes !== undefined,
        input.maxStoredPreimageBytes ?? null,
      ],
    );
    if (!row) throw new Error('INSERT ... RETURNING returned no row');
    return toRecord(row);
  }

  /** @returns true if an override was removed. */
  async delete(principal: string): Promise<boolean> {
    return (await queryOne(this.ds, 'DELETE FROM principal_quota WHERE principal = $1 RETURNING 1 AS ok', [principal])) !== null;
  }

  /** Keyset page in principal order: principals after `after`. @throws RangeError for a bad limit. */
  async list(opts: { after?: string; limit: number }): Promise<PrincipalQuotaRecord[]> {
    checkLimit(opts.limit, PRINCIPAL_QUOTA_LIST_MAX_LIMIT);
    const rows = await queryRows<PrincipalQuotaEntity>(
      this.ds,
      `SELECT ${COLUMNS} FROM principal_quota WHERE ($1::text IS NULL OR principal > $1) ORDER BY principal LIMIT $2`,
      [opts.after ?? null, opts.limit],
    );
    return rows.map(toRecord);
  }
}
