/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Retry of failed packages (POST /jam/packages/{hash}/retry, POST /admin/packages/{hash}/retry):
 * work_package.retries counts the retries a package has had, bounded by max_package_retries. It
 * is incremented in the same transaction that clears the package's failure counts and moves it
 * back into the pipeline (WorkPackageRepository.retryFailed).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [`ALTER TABLE work_package ADD COLUMN IF NOT EXISTS retries integer NOT NULL DEFAULT 0 CHECK (retries >= 0)`];

const DOWN: readonly string[] = ['ALTER TABLE work_package DROP COLUMN IF EXISTS retries'];

/** Per-package retry count. */
export class PackageRetries1766500000000 implements MigrationInterface {
  name = 'PackageRetries1766500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
