/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Issue 4 (authorization and admin):
 * - preimage_uploader: every principal that uploaded a preimage's bytes (the first uploader and
 *   every later one), so reads can be allowed to all of them and to nobody else. Backfilled from
 *   preimage.uploaded_by.
 * - principal_quota: per-principal overrides of max_pending_packages set through /admin.
 * - a GIN index on service.delegates for "services where I am owner or delegate".
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS preimage_uploader (
     hash        bytea       NOT NULL REFERENCES preimage (hash),
     principal   text        NOT NULL,
     created_at  timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (hash, principal)
   )`,
  `CREATE INDEX IF NOT EXISTS preimage_uploader_principal_idx ON preimage_uploader (principal)`,
  `INSERT INTO preimage_uploader (hash, principal, created_at)
     SELECT hash, uploaded_by, created_at FROM preimage ON CONFLICT DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS principal_quota (
     principal             text        PRIMARY KEY,
     max_pending_packages  integer     NULL CHECK (max_pending_packages >= 0),
     updated_at            timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX IF NOT EXISTS service_delegates_idx ON service USING gin (delegates)`,
  `CREATE INDEX IF NOT EXISTS service_code_hash_idx ON service (code_hash)`,
];

const DOWN: readonly string[] = [
  'DROP INDEX IF EXISTS service_code_hash_idx',
  'DROP INDEX IF EXISTS service_delegates_idx',
  'DROP TABLE IF EXISTS principal_quota',
  'DROP TABLE IF EXISTS preimage_uploader',
];

/** Preimage uploaders, per-principal quotas and the delegate index (issue 4). */
export class TenancyAndAdmin1761000000000 implements MigrationInterface {
  name = 'TenancyAndAdmin1761000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
