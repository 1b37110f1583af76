import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes, hexToBytes } from '../bytes-hex';
import type { AttestationEntity } from '../entities/attestation.entity';
import { queryOne, queryRows } from '../sql-runner';
import { CURRENT_HASH_FORMAT } from './work-report.repository';

/** One attester's signature over a report hash. */
export interface AttestationRecord {
  reportHash: string;
  attesterIndex: number;
  packageHash: string;
  /** Ed25519 signature, `0x` + 128 hex digits. */
  signature: string;
  createdAt: Date;
}

const COLUMNS = `report_hash AS "reportHash", attester_index AS "attesterIndex", package_hash AS "packageHash",
  signature, created_at AS "createdAt"`;

function toRecord(row: AttestationEntity): AttestationRecord {
  return {
    reportHash: bytesToHex(row.reportHash),
    attesterIndex: row.attesterIndex,
    packageHash: bytesToHex(row.packageHash),
    signature: bytesToHex(row.signature),
    createdAt: row.createdAt,
  };
}

/**
 * Table `attestation`. Stores signatures the caller has already verified (libs/attest); the
 * key (report_hash, attester_index) makes a repeated attestation a no-op.
 */
export class AttestationRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records one attestation once; a second one from the same attester for the same report
   * changes nothing (the first signature stays).
   * @throws DomainError `invalid_hex` (hashes 32 bytes, signature 64 bytes); the database's
   *   foreign-key violation (23503) when the report or attester is not recorded.
   */
  async insertIfAbsent(input: { reportHash: string; attesterIndex: number; packageHash: string; signature: string }): Promise<{ created: boolean }> {
    const row = await queryOne(
      this.ds,
      `INSERT INTO attestation (report_hash, attester_index, package_hash, signature) VALUES ($1, $2, $3, $4)
       ON CONFLICT (report_hash, attester_index) DO NOTHING RETURNING 1 AS ok`,
      [
        hashToBytes(input.reportHash, 'reportHash'),
        input.attesterIndex,
        hashToBytes(input.packageHash, 'packageHash'),
        hexToBytes(input.signature, 'signature', 64),
      ],
    );
    return { created: row !== null };
  }

  /**
   * Records one attestation once, if `reportHash` is a stored report of `packageHash`: the check
   * and the insert in ONE statement (the attestation processor read the whole report row only to
   * make that check). A second attestation of the same attester and report changes nothing.
   * @returns `report`: false when no such report is stored (nothing inserted); `created`: this call inserted the row
   * @throws DomainError `invalid_hex` (hashes 32 bytes, signature 64 bytes); the database's
   *   foreign-key violation (23503) when the attester is not recorded.
   */
  async insertIfReportOf(input: {
    reportHash: string;
    attesterIndex: number;
    packageHash: string;
    signature: string;
  }): Promise<{ report: boolean; created: boolean }> {
    const row = await queryOne<{ report: boolean; created: boolean }>(
      this.ds,
      `WITH r AS (SELECT 1 FROM work_report WHERE report_hash = $1 AND package_hash = $3),
       ins AS (
         INSERT INTO attestation (report_hash, attester_index, package_hash, signature)
         SELECT $1, $2, $3, $4 FROM r
         ON CONFLICT (report_hash, attester_index) DO NOTHING RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM r) AS report, EXISTS (SELECT 1 FROM ins) AS created`,
      [
        hashToBytes(input.reportHash, 'reportHash'),
        input.attesterIndex,
        hashToBytes(input.packageHash, 'packageHash'),
        hexToBytes(input.signature, 'signature', 64),
      ],
    );
    return { report: row?.report === true, created: row?.created === true };
  }

  /** Number of distinct attesters that signed this report hash (compare with the threshold). */
  async countDistinctSigners(reportHash: string): Promise<number> {
    const row = await queryOne<{ n: string }>(this.ds, 'SELECT count(DISTINCT attester_index) AS n FROM attestation WHERE report_hash = $1', [
      hashToBytes(reportHash, 'reportHash'),
    ]);
    return Number(row?.n ?? 0);
  }

  /** Attestations of one report in attester order. */
  async listByReport(reportHash: string): Promise<AttestationRecord[]> {
    const rows = await queryRows<AttestationEntity>(this.ds, `SELECT ${COLUMNS} FROM attestation WHERE report_hash = $1 ORDER BY attester_index`, [
      hashToBytes(reportHash, 'reportHash'),
    ]);
    return rows.map(toRecord);
  }

  /**
   * Every report hash attested for one package with its number of distinct signers, most
   * signers first: more than one entry is a conflict (docs/architecture.md section 6). Only
   * reports of the current hash format (2, GP H(E(report)); migration 1768000000000) count:
   * signatures on legacy-format reports stay stored and verifiable but never count toward a
   * verdict, so a package caught in the refine phase by the upgrade is re-refined, not disputed.
   */
  async reportHashesForPackage(packageHash: string): Promise<{ reportHash: string; signers: number }[]> {
    const rows = await queryRows<{ report_hash: Buffer; n: string }>(
      this.ds,
      `SELECT a.report_hash, count(DISTINCT a.attester_index) AS n
         FROM attestation a JOIN work_report r ON r.report_hash = a.report_hash
        WHERE a.package_hash = $1 AND r.hash_format = ${CURRENT_HASH_FORMAT}
        GROUP BY a.report_hash ORDER BY n DESC, a.report_hash`,
      [hashToBytes(packageHash, 'packageHash')],
    );
    return rows.map((r) => ({ reportHash: bytesToHex(r.report_hash), signers: Number(r.n) }));
  }
}
