import { DomainError } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes } from '../bytes-hex';
import type { AuditLogEntity, JsonValue } from '../entities/audit-log.entity';
import { checkLimit, queryOne, queryRows } from '../sql-runner';

/** One audit log entry. */
export interface AuditLogRecord {
  /** bigint identity as a decimal string; increases with insertion. */
  id: string;
  at: Date;
  /** `0x` hex SHA-256 of the acting bearer token (as configured in allowed_tokens/admin_tokens), null if none was presented. */
  actorTokenHash: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: { [key: string]: JsonValue };
}

/** Largest page {@link AuditLogRepository.list} returns. */
export const AUDIT_LOG_LIST_MAX_LIMIT = 1000;

const COLUMNS = `id, at, actor_token_hash AS "actorTokenHash", action, target, outcome, details`;

function toRecord(row: AuditLogEntity): AuditLogRecord {
  return {
    id: row.id,
    at: row.at,
    actorTokenHash: row.actorTokenHash && bytesToHex(row.actorTokenHash),
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    details: row.details,
  };
}

/** Table `audit_log`: append-only record of admin and security actions. Never store secrets in `details`. */
export class AuditLogRepository {
  constructor(private readonly ds: DataSource) {}

  /** Appends one entry. @throws DomainError `invalid_hex` for a malformed token hash. */
  async append(entry: {
    actorTokenHash: string | null;
    action: string;
    target?: string | null;
    outcome: string;
    details?: { [key: string]: JsonValue };
  }): Promise<AuditLogRecord> {
    const row = await queryOne<AuditLogEntity>(
      this.ds,
      `INSERT INTO audit_log (actor_token_hash, action, target, outcome, details) VALUES ($1, $2, $3, $4, $5::jsonb)
       RETURNING ${COLUMNS}`,
      [
        entry.actorTokenHash === null ? null : hashToBytes(entry.actorTokenHash, 'actorTokenHash'),
        entry.action,
        entry.target ?? null,
        entry.outcome,
        JSON.stringify(entry.details ?? {}),
      ],
    );
    if (!row) throw new Error('INSERT ... RETURNING returned no row');
    return toRecord(row);
  }

  /**
   * Keyset page, newest first: entries with id below `beforeId` (pass the last id of the
   * previous page), optionally of one action.
   * @param opts.limit 1..AUDIT_LOG_LIST_MAX_LIMIT
   * @throws DomainError `invalid_request` for a malformed `beforeId`; RangeError for a bad limit.
   */
  async list(opts: { beforeId?: string; limit: number; action?: string }): Promise<AuditLogRecord[]> {
    checkLimit(opts.limit, AUDIT_LOG_LIST_MAX_LIMIT);
    if (opts.beforeId !== undefined && !/^[1-9]\d{0,18}$/.test(opts.beforeId)) {
      throw new DomainError('invalid_request', 'beforeId must be a positive decimal id', { beforeId: opts.beforeId });
    }
    const rows = await queryRows<AuditLogEntity>(
      this.ds,
      `SELECT ${COLUMNS} FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1::bigint) AND ($2::text IS NULL OR action = $2)
       ORDER BY id DESC LIMIT $3`,
      [opts.beforeId ?? null, opts.action ?? null, opts.limit],
    );
    return rows.map(toRecord);
  }
}
