/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Only deterministic outcomes are signed (issue 7 part 5): a blob a run depends on that the store
 * cannot give (missing from a lagging store, corrupted, S3 or I/O error) is no longer turned into
 * a guest result (`bad_code`, a `lookup` answering NONE, digests skipped in accumulate); it is
 * retried and counted like the other failures without a guest result:
 * - refine_attempt.last_kind gains `blob`: such failures share the attester's `failures` count
 *   (bound max_sandbox_failures) with executor failures and wall-clock kills.
 * - accumulation_attempt.blob_failures: such failures per (report, service), next to
 *   wall_clock_failures and executor_failures; at max_sandbox_failures the accumulation is
 *   recorded with status `blob_unavailable` (no writes, no gas).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  // the name PostgreSQL gave the inline CHECK of 1765000000000-sandbox-failures.ts
  `ALTER TABLE refine_attempt DROP CONSTRAINT IF EXISTS refine_attempt_last_kind_check`,
  `ALTER TABLE refine_attempt ADD CONSTRAINT refine_attempt_last_kind_check CHECK (last_kind IN ('wall_clock', 'executor', 'blob'))`,
  `ALTER TABLE accumulation_attempt ADD COLUMN IF NOT EXISTS blob_failures integer NOT NULL DEFAULT 0 CHECK (blob_failures >= 0)`,
];

const DOWN: readonly string[] = [
  'ALTER TABLE accumulation_attempt DROP COLUMN IF EXISTS blob_failures',
  `DELETE FROM refine_attempt WHERE last_kind = 'blob'`,
  'ALTER TABLE refine_attempt DROP CONSTRAINT IF EXISTS refine_attempt_last_kind_check',
  `ALTER TABLE refine_attempt ADD CONSTRAINT refine_attempt_last_kind_check CHECK (last_kind IN ('wall_clock', 'executor'))`,
];

/** Blob store failures counted as failures without a guest result (refine and accumulate). */
export class BlobFailures1767000000000 implements MigrationInterface {
  name = 'BlobFailures1767000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
