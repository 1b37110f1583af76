/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Counters instead of COUNT over growing sets (issue 8; docs/performance.md section 14): every
 * submit counted the submitter's in-flight packages (max_pending_packages) and summed their
 * refine gas (fair-share priority) over the partial index work_package_in_flight_submitter_idx,
 * O(backlog): 74 ms at 10,000 in flight. Now `principal_in_flight` holds, per submitter, the number
 * of its packages in an in-flight status and the sum of their declared refine gas, kept by a
 * trigger on work_package in the same transaction as the change, so every writer (transitions,
 * retries, dispute resolution, retention, hand-written SQL) keeps it exact. 16 shards per principal
 * (first byte of the package hash mod 16) so concurrent transitions of one busy submitter do not
 * queue on one counter row; readers sum the shards (at most 16 rows).
 *
 * The trigger is created before the backfill in this migration's transaction: CREATE TRIGGER
 * takes a lock that blocks concurrent writes to work_package until the commit, so the backfill
 * counts exactly the rows the trigger has not seen.
 *
 * Also: the janitor's stale-package scan (status in flight, oldest updated_at first) read and
 * sorted every in-flight row (98 ms at 10,000); the partial index on updated_at serves it in order.
 *
 * Keep IN_FLIGHT in step with IN_FLIGHT_PACKAGE_STATUSES of libs/domain (package-lifecycle.ts);
 * test/... entities-match-migrations and the in-flight counter spec check the lists agree.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const IN_FLIGHT = `('pending', 'refining', 'attesting', 'attested', 'accumulating')`;

const UP: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS principal_in_flight (
     principal  text     NOT NULL,
     shard      smallint NOT NULL CHECK (shard >= 0 AND shard < 16),
     packages   bigint   NOT NULL DEFAULT 0,
     refine_gas numeric  NOT NULL DEFAULT 0,
     PRIMARY KEY (principal, shard)
   )`,
  `CREATE OR REPLACE FUNCTION work_package_in_flight_count() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     was_in boolean := TG_OP <> 'INSERT' AND OLD.status IN ${IN_FLIGHT};
     is_in  boolean := TG_OP <> 'DELETE' AND NEW.status IN ${IN_FLIGHT};
   BEGIN
     IF was_in AND NOT is_in THEN
       UPDATE principal_in_flight SET packages = packages - 1, refine_gas = refine_gas - OLD.refine_gas
        WHERE principal = OLD.submitted_by AND shard = get_byte(OLD.hash, 0) % 16;
     ELSIF is_in AND NOT was_in THEN
       INSERT INTO principal_in_flight (principal, shard, packages, refine_gas)
       VALUES (NEW.submitted_by, get_byte(NEW.hash, 0) % 16, 1, NEW.refine_gas)
       ON CONFLICT (principal, shard) DO UPDATE
         SET packages = principal_in_flight.packages + 1, refine_gas = principal_in_flight.refine_gas + EXCLUDED.refine_gas;
     END IF;
     RETURN NULL;
   END $$`,
  `DROP TRIGGER IF EXISTS work_package_in_flight_count ON work_package`,
  `CREATE TRIGGER work_package_in_flight_count
     AFTER INSERT OR DELETE OR UPDATE OF status ON work_package
     FOR EACH ROW EXECUTE FUNCTION work_package_in_flight_count()`,
  `DELETE FROM principal_in_flight`,
  `INSERT INTO principal_in_flight (principal, shard, packages, refine_gas)
   SELECT submitted_by, get_byte(hash, 0) % 16, count(*), COALESCE(sum(refine_gas), 0)
     FROM work_package WHERE status IN ${IN_FLIGHT} GROUP BY 1, 2`,
  `CREATE INDEX IF NOT EXISTS work_package_in_flight_updated_idx ON work_package (updated_at) WHERE status IN ${IN_FLIGHT}`,
];

const DOWN: readonly string[] = [
  'DROP INDEX IF EXISTS work_package_in_flight_updated_idx',
  'DROP TRIGGER IF EXISTS work_package_in_flight_count ON work_package',
  'DROP FUNCTION IF EXISTS work_package_in_flight_count()',
  'DROP TABLE IF EXISTS principal_in_flight',
];

/** Per-principal in-flight counters kept by a trigger, and an index for the stale-package scan. */
export class InFlightCounters1769000000000 implements MigrationInterface {
  name = 'InFlightCounters1769000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
