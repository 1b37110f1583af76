/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * GP-valid guarantees and honest exports (issue 9 items 1 and 5; docs/architecture.md section 6):
 * - work_report.hash_format: which rule the row's report_hash follows. Reports stored before
 *   this migration keep their hash and get format 1 (legacy: Blake2b-256(E(report) ++ engine
 *   identity), engine <= 0.6.0): their attestations sign `jam_guarantee ++ that hash`, so
 *   recomputing the hash would orphan every stored signature, and re-signing needs the
 *   attesters' keys, which a migration never holds. New reports are format 2 (GP 0.7.2 eq. 11.26:
 *   report_hash = Blake2b-256(E(report)), the engine identity inside auth_output). Format-1
 *   attestations still verify (the signed message is the same `jam_guarantee ++ report_hash`)
 *   but never count toward a verdict: a package still in the refine phase with only format-1
 *   signatures is re-refined by the reconciler under the new engine; a package already attested
 *   or accumulating keeps its format-1 report and accumulates it (nothing is recomputed).
 * - exported_segment: the segments a report exports (GP W_G = 4104 bytes each), addressed by
 *   the report's segments root (exports root) and index, or by its package hash and index;
 *   deleted with the report (retention) through the foreign key.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  `ALTER TABLE work_report ADD COLUMN IF NOT EXISTS hash_format smallint NOT NULL DEFAULT 1 CHECK (hash_format IN (1, 2))`,
  `CREATE TABLE IF NOT EXISTS exported_segment (
     report_hash    bytea    NOT NULL REFERENCES work_report (report_hash) ON DELETE CASCADE,
     segment_index  integer  NOT NULL CHECK (segment_index >= 0 AND segment_index < 3072),
     package_hash   bytea    NOT NULL CHECK (octet_length(package_hash) = 32),
     segments_root  bytea    NOT NULL CHECK (octet_length(segments_root) = 32),
     data           bytea    NOT NULL CHECK (octet_length(data) = 4104),
     PRIMARY KEY (report_hash, segment_index)
   )`,
  `CREATE INDEX IF NOT EXISTS exported_segment_root_idx ON exported_segment (segments_root, segment_index)`,
  `CREATE INDEX IF NOT EXISTS exported_segment_package_idx ON exported_segment (package_hash, segment_index)`,
];

const DOWN: readonly string[] = ['DROP TABLE IF EXISTS exported_segment', 'ALTER TABLE work_report DROP COLUMN IF EXISTS hash_format'];

/** GP report hash format marker on work_report, and the exported_segment table. */
export class GpReportHashAndSegments1768000000000 implements MigrationInterface {
  name = 'GpReportHashAndSegments1768000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
