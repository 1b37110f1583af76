import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes, toBuffer, toUint8Array } from '../bytes-hex';
import { queryOne, queryRows } from '../sql-runner';

/** Where an imported segment is looked for (`SegmentAddress` of @jam/domain, `segmentAddress(importSpec)`). */
export interface SegmentAddress {
  /** `0x` hex, 32 bytes. */
  root: string;
  /** `segments_root`: the exporting report's exports root; `package_hash`: the exporting work package. */
  kind: 'segments_root' | 'package_hash';
  /** Segment index in the exporting report (0..3071). */
  index: number;
}

/** Package statuses whose chosen report's exports are held for imports: the report met the threshold. */
const HOLDING_STATUSES = `('attested', 'accumulating', 'accumulated')`;

/**
 * Table `exported_segment` (migration 1768000000000): the segments each stored report exports,
 * 4104 bytes each (GP W_G). A segment is *held* (importable) when the report that exports it is
 * the one its package was attested with (status attested, accumulating or accumulated).
 */
export class ExportedSegmentRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a report's exported segments (index = position). Idempotent: every attester of the
   * same report records the same rows; existing rows stay.
   * @throws DomainError `invalid_hex`; the database's foreign-key violation when the report is not stored.
   */
  async record(input: { reportHash: string; packageHash: string; segmentsRoot: string; segments: readonly Uint8Array[] }): Promise<void> {
    if (input.segments.length === 0) return;
    await queryRows(
      this.ds,
      `INSERT INTO exported_segment (report_hash, segment_index, package_hash, segments_root, data)
       SELECT $1, i - 1, $2, $3, d FROM unnest($4::bytea[]) WITH ORDINALITY AS t(d, i)
       ON CONFLICT (report_hash, segment_index) DO NOTHING`,
      [
        hashToBytes(input.reportHash, 'reportHash'),
        hashToBytes(input.packageHash, 'packageHash'),
        hashToBytes(input.segmentsRoot, 'segmentsRoot'),
        input.segments.map((s) => toBuffer(s)),
      ],
    );
  }

  /**
   * The held segment at `address` (its bytes, its report's segments root and package hash), or null when this system holds none there (unknown root or
   * package, index past its exports, or its package not attested with that report).
   * @throws DomainError `invalid_hex`.
   */
  async getHeld(address: SegmentAddress): Promise<{ data: Uint8Array; segmentsRoot: string; packageHash: string } | null> {
    const column = address.kind === 'segments_root' ? 's.segments_root' : 's.package_hash';
    const row = await queryOne<{ data: Buffer; segments_root: Buffer; package_hash: Buffer }>(
      this.ds,
      `SELECT s.data, s.segments_root, s.package_hash FROM exported_segment s JOIN work_package p ON p.hash = s.package_hash AND p.report_hash = s.report_hash
        WHERE ${column} = $1 AND s.segment_index = $2 AND p.status IN ${HOLDING_STATUSES} LIMIT 1`,
      [hashToBytes(address.root, 'root'), address.index],
    );
    return row && { data: toUint8Array(row.data), segmentsRoot: bytesToHex(row.segments_root), packageHash: bytesToHex(row.package_hash) };
  }

  /** The first of `addresses` this system does not hold, or undefined when it holds them all. */
  async firstMissing(addresses: readonly SegmentAddress[]): Promise<SegmentAddress | undefined> {
    for (const a of addresses) {
      if ((await this.getHeld(a)) === null) return a;
    }
    return undefined;
  }

  /** Exported segments of one report in index order (`0x` hex of the package hash for reference). */
  async listByReport(reportHash: string): Promise<{ index: number; segmentsRoot: string; data: Uint8Array }[]> {
    const rows = await queryRows<{ segment_index: number; segments_root: Buffer; data: Buffer }>(
      this.ds,
      'SELECT segment_index, segments_root, data FROM exported_segment WHERE report_hash = $1 ORDER BY segment_index',
      [hashToBytes(reportHash, 'reportHash')],
    );
    return rows.map((r) => ({ index: r.segment_index, segmentsRoot: bytesToHex(r.segments_root), data: toUint8Array(r.data) }));
  }
}
