/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Issue 11 (operations and faults):
 * - preimage.corrupt_at: set when a verified download (GET /jam/preimages/{hash}) found bytes that
 *   no longer hash to the preimage's hash; cleared when a PUT stores verified bytes again. Shown
 *   in /meta so an operator (and the uploader) can see which blobs need repair.
 * - principal_quota.max_concurrent_uploads / max_stored_preimage_bytes: admin overrides of the
 *   per-principal upload caps; null = the global setting (max_concurrent_uploads,
 *   max_stored_preimage_bytes).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  `ALTER TABLE preimage ADD COLUMN IF NOT EXISTS corrupt_at timestamptz NULL`,
  `ALTER TABLE principal_quota ADD COLUMN IF NOT EXISTS max_concurrent_uploads integer NULL CHECK (max_concurrent_uploads >= 0)`,
  `ALTER TABLE principal_quota ADD COLUMN IF NOT EXISTS max_stored_preimage_bytes bigint NULL CHECK (max_stored_preimage_bytes >= 0)`,
];

const DOWN: readonly string[] = [
  'ALTER TABLE principal_quota DROP COLUMN IF EXISTS max_stored_preimage_bytes',
  'ALTER TABLE principal_quota DROP COLUMN IF EXISTS max_concurrent_uploads',
  'ALTER TABLE preimage DROP COLUMN IF EXISTS corrupt_at',
];

/** Per-principal upload caps (admin overrides) and the corrupt-blob mark of verified downloads. */
export class UploadQuotasAndCorruptBlobs1766600000000 implements MigrationInterface {
  name = 'UploadQuotasAndCorruptBlobs1766600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
