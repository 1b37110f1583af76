/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Poison accumulations (an accumulate that hits the sandbox wall clock on every try):
 * - accumulation_attempt: wall-clock kills per (report, service), counted in their own committed
 *   transaction (the accumulation's own transaction rolls back), so the count survives retries,
 *   worker crashes and reconciler rounds. At max_accumulate_timeouts the accumulation is recorded
 *   with status `timed_out`. Deleted with its report (ON DELETE CASCADE: the retention task
 *   deletes reports and needs no change).
 * accumulation.status is unconstrained text (no CHECK), so its new values `timed_out` and
 * `storage_over_limit` need no schema change.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS accumulation_attempt (
     report_hash          bytea       NOT NULL REFERENCES work_report (report_hash) ON DELETE CASCADE,
     service_id           integer     NOT NULL REFERENCES service (id),
     wall_clock_failures  integer     NOT NULL CHECK (wall_clock_failures >= 0),
     last_failure_at      timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (report_hash, service_id)
   )`,
];

const DOWN: readonly string[] = ['DROP TABLE IF EXISTS accumulation_attempt'];

/** Durable wall-clock failure counts of accumulations (poison-job bound). */
export class AccumulationAttempts1764000000000 implements MigrationInterface {
  name = 'AccumulationAttempts1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
