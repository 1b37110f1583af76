/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Store identity (blob store binding): store_identity holds exactly one row, a random UUID created
 * once per database. Every process writes it into a marker object in its blob store (filesystem
 * `<blob_dir>/.jam-store-id`, S3 `<prefix>/.jam-store-id`) on first start and refuses to start on a
 * store whose marker names another database, so two deployments can never sweep each other's
 * blobs as orphans (see libs/blob-store/src/store-marker.ts). A copy of the database (dump and
 * restore) keeps the id, and so keeps its blob store.
 *
 * The id is generated here, in Node, not with gen_random_uuid(), so the migration does not depend
 * on the server's version or extensions. ON CONFLICT DO NOTHING keeps the first id when the
 * statements run again.
 */
import { randomUUID } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const CREATE = `CREATE TABLE IF NOT EXISTS store_identity (
     singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
     store_id    uuid        NOT NULL,
     created_at  timestamptz NOT NULL DEFAULT now()
   )`;
const INSERT = `INSERT INTO store_identity (singleton, store_id) VALUES (true, $1) ON CONFLICT (singleton) DO NOTHING`;

/** The database's store identity: one random UUID that binds blob stores to it. */
export class StoreIdentity1763000000000 implements MigrationInterface {
  name = 'StoreIdentity1763000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(CREATE);
    await queryRunner.query(INSERT, [randomUUID()]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS store_identity');
  }
}
