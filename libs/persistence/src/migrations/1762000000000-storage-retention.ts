/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Storage Bloat (threat model; janitor retention and preimage GC):
 * - preimage.last_uploaded_at: when the bytes were last PUT (every upload of an existing hash
 *   touches it), so the GC grace period counts from the latest upload, not only the first.
 *   Backfilled from created_at and the latest preimage_uploader row.
 * - work_package_preimage: the preimages a package's work items reference as extrinsics, written
 *   in the same transaction as the package row. The FK to preimage means the GC can never delete
 *   a preimage a stored package still references; ON DELETE CASCADE from work_package means the
 *   retention task releases the references with the package. Backfilled by decoding stored
 *   packages (the GP 0.7.2 package encoding is what the package hash covers, so it is stable).
 * - a partial index for the GC's candidate scan (refcount 0, oldest upload first).
 */
import { extrinsicHashesOf } from '../package-preimage-refs';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP_BEFORE_BACKFILL: readonly string[] = [
  `ALTER TABLE preimage ADD COLUMN IF NOT EXISTS last_uploaded_at timestamptz NULL`,
  `UPDATE preimage p SET last_uploaded_at = GREATEST(p.created_at,
     COALESCE((SELECT max(u.created_at) FROM preimage_uploader u WHERE u.hash = p.hash), p.created_at))
   WHERE last_uploaded_at IS NULL`,
  `ALTER TABLE preimage ALTER COLUMN last_uploaded_at SET DEFAULT now()`,
  `ALTER TABLE preimage ALTER COLUMN last_uploaded_at SET NOT NULL`,
  `CREATE INDEX IF NOT EXISTS preimage_gc_candidate_idx ON preimage (last_uploaded_at) WHERE refcount = 0`,
  `CREATE TABLE IF NOT EXISTS work_package_preimage (
     package_hash   bytea NOT NULL REFERENCES work_package (hash) ON DELETE CASCADE,
     preimage_hash  bytea NOT NULL REFERENCES preimage (hash),
     PRIMARY KEY (package_hash, preimage_hash)
   )`,
  `CREATE INDEX IF NOT EXISTS work_package_preimage_preimage_hash_idx ON work_package_preimage (preimage_hash)`,
];

const DOWN: readonly string[] = [
  'DROP TABLE IF EXISTS work_package_preimage',
  'DROP INDEX IF EXISTS preimage_gc_candidate_idx',
  'ALTER TABLE preimage DROP COLUMN IF EXISTS last_uploaded_at',
];

const BACKFILL_BATCH = 500;

/** Preimage retention columns and package -> preimage references (Storage Bloat). */
export class StorageRetention1762000000000 implements MigrationInterface {
  name = 'StorageRetention1762000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP_BEFORE_BACKFILL) await queryRunner.query(sql);
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const rows = (await queryRunner.query('SELECT hash, encoded FROM work_package WHERE hash > $1 ORDER BY hash LIMIT $2', [after, BACKFILL_BATCH])) as {
        hash: Buffer;
        encoded: Buffer;
      }[];
      for (const row of rows) {
        const refs = extrinsicHashesOf(row.encoded);
        // Only preimages still recorded: a reference to a missing one would violate the FK.
        if (refs.length > 0) {
          await queryRunner.query(
            `INSERT INTO work_package_preimage (package_hash, preimage_hash)
             SELECT $1, hash FROM preimage WHERE hash = ANY($2::bytea[]) ON CONFLICT DO NOTHING`,
            [row.hash, refs],
          );
        }
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < BACKFILL_BATCH) break;
      after = last.hash;
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
