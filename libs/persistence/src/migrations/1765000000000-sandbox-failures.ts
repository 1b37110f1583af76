/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Poison packages beyond the wall clock: a sandbox executor that crashes, is killed or reports an
 * engine fault while running a package's code is not a guest result, so the run is retried; these
 * counts bound the retries durably (they survive worker crashes and reconciler rounds).
 * - accumulation_attempt.executor_failures: such failures per (report, service), counted next to
 *   wall_clock_failures in their own committed transaction; at max_sandbox_failures the
 *   accumulation is recorded with status `sandbox_failed` (no writes). last_error keeps the last
 *   failure's message for operators. wall_clock_failures gets a default of 0 so a row may be
 *   created by either kind.
 * - refine_attempt: failures (executor failures and wall-clock kills) of refining one package as
 *   one attester. At max_sandbox_failures the attester gives up on the package (exhausted_at);
 *   the package fails only when the attesters that have not given up can no longer reach the
 *   attestation threshold. Deleted with the package (ON DELETE CASCADE: retention needs no change).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  `ALTER TABLE accumulation_attempt ALTER COLUMN wall_clock_failures SET DEFAULT 0`,
  `ALTER TABLE accumulation_attempt ADD COLUMN IF NOT EXISTS executor_failures integer NOT NULL DEFAULT 0 CHECK (executor_failures >= 0)`,
  `ALTER TABLE accumulation_attempt ADD COLUMN IF NOT EXISTS last_error text NULL`,
  `CREATE TABLE IF NOT EXISTS refine_attempt (
     package_hash         bytea       NOT NULL REFERENCES work_package (hash) ON DELETE CASCADE,
     attester_index       integer     NOT NULL CHECK (attester_index >= 0),
     failures             integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
     wall_clock_failures  integer     NOT NULL DEFAULT 0 CHECK (wall_clock_failures >= 0),
     last_kind            text        NOT NULL CHECK (last_kind IN ('wall_clock', 'executor')),
     last_error           text        NULL,
     last_failure_at      timestamptz NOT NULL DEFAULT now(),
     exhausted_at         timestamptz NULL,
     PRIMARY KEY (package_hash, attester_index)
   )`,
];

const DOWN: readonly string[] = [
  'DROP TABLE IF EXISTS refine_attempt',
  'ALTER TABLE accumulation_attempt DROP COLUMN IF EXISTS last_error',
  'ALTER TABLE accumulation_attempt DROP COLUMN IF EXISTS executor_failures',
  'ALTER TABLE accumulation_attempt ALTER COLUMN wall_clock_failures DROP DEFAULT',
];

/** Durable counts of sandbox failures that are not guest results (accumulate and refine). */
export class SandboxFailures1765000000000 implements MigrationInterface {
  name = 'SandboxFailures1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
