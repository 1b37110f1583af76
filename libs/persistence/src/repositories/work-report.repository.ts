import type { DataSource } from 'typeorm';
import { REPORT_HASH_FORMAT } from '@jam/domain';
import { bytesToHex, hashToBytes, toBuffer, toUint8Array } from '../bytes-hex';
import type { GuestLogEntry, WorkReportEntity } from '../entities/work-report.entity';
import { queryOne, queryRows } from '../sql-runner';

/** A stored work report. */
export interface WorkReportRecord {
  /** `0x` hex; Blake2b-256 of `encoded` when `hashFormat` is 2 (GP 0.7.2 eq. 11.26), the legacy rule when 1. */
  reportHash: string;
  /** `0x` hex of the package the report is for. */
  packageHash: string;
  /** GP 0.7.2 binary encoding of the WorkReport. */
  encoded: Uint8Array;
  /** Engine identity the report was made with. */
  engine: string;
  /** Per work item: the guest's log lines and trap detail, beside the report (not signed); null for older rows. */
  guestLog: GuestLogEntry[] | null;
  /** 1 legacy (engine <= 0.6.0: engine identity appended to the hashed bytes), 2 GP H(E(report)); `REPORT_HASH_FORMAT` of @jam/domain. */
  hashFormat: number;
  createdAt: Date;
}

/** The hash format new reports are written with and verdicts count: REPORT_HASH_FORMAT.gp (GP H(E(report))). */
export const CURRENT_HASH_FORMAT: number = REPORT_HASH_FORMAT.gp;

const COLUMNS = `report_hash AS "reportHash", package_hash AS "packageHash", encoded, engine, guest_log AS "guestLog", hash_format AS "hashFormat", created_at AS "createdAt"`;

function toRecord(row: WorkReportEntity): WorkReportRecord {
  return {
    reportHash: bytesToHex(row.reportHash),
    packageHash: bytesToHex(row.packageHash),
    encoded: toUint8Array(row.encoded),
    engine: row.engine,
    guestLog: row.guestLog ?? null,
    hashFormat: row.hashFormat,
    createdAt: row.createdAt,
  };
}

/** Table `work_report`: distinct reports; every attester producing the same report shares one row. */
export class WorkReportRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a report unless its hash is already recorded (attesters computing the same report
   * collapse into one row; the first stored encoding and guest log stay: the log is a function
   * of the same code and inputs, so every attester's is the same).
   * @throws DomainError `invalid_hex`; the database's foreign-key violation (SQLSTATE 23503)
   *   when the package is not recorded.
   */
  async insertIfAbsent(input: {
    reportHash: string;
    packageHash: string;
    encoded: Uint8Array;
    engine: string;
    guestLog?: GuestLogEntry[];
    /** defaults to CURRENT_HASH_FORMAT */
    hashFormat?: number;
  }): Promise<{ created: boolean }> {
    const row = await queryOne(
      this.ds,
      `INSERT INTO work_report (report_hash, package_hash, encoded, engine, guest_log, hash_format) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (report_hash) DO NOTHING RETURNING 1 AS ok`,
      [
        hashToBytes(input.reportHash, 'reportHash'),
        hashToBytes(input.packageHash, 'packageHash'),
        toBuffer(input.encoded),
        input.engine,
        input.guestLog === undefined ? null : JSON.stringify(input.guestLog),
        input.hashFormat ?? CURRENT_HASH_FORMAT,
      ],
    );
    return { created: row !== null };
  }

  /** @returns the report, or null. @throws DomainError `invalid_hex`. */
  async get(reportHash: string): Promise<WorkReportRecord | null> {
    const row = await queryOne<WorkReportEntity>(this.ds, `SELECT ${COLUMNS} FROM work_report WHERE report_hash = $1`, [hashToBytes(reportHash, 'reportHash')]);
    return row && toRecord(row);
  }

  /** Every report made for one package, oldest first (more than one means a conflict). */
  async listByPackage(packageHash: string): Promise<WorkReportRecord[]> {
    const rows = await queryRows<WorkReportEntity>(this.ds, `SELECT ${COLUMNS} FROM work_report WHERE package_hash = $1 ORDER BY created_at, report_hash`, [
      hashToBytes(packageHash, 'packageHash'),
    ]);
    return rows.map(toRecord);
  }
}
