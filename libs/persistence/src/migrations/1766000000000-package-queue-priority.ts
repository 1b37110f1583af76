/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * Fair sharing between tenants (docs/fairness.md): work_package.queue_priority is the priority
 * every job of the package is queued with (refine, attestation, accumulate, the executor pool),
 * fixed at submission from the submitter's in-flight backlog (`packageQueuePriority` in
 * @jam/queue-contracts), so the reconciler re-enqueues lost jobs with the same priority.
 * work_package.refine_gas is the package's declared refine gas (sum of its items' limits, below
 * G_R = 5e9): the backlog is the sum of it over the submitter's packages in flight, read through
 * the partial index work_package_in_flight_submitter_idx. Older rows get 0.
 * 1..2097151 is BullMQ 6.7's range. Rows from before this migration get 1: they were accepted
 * without fairness and should not wait behind packages accepted after it.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const UP: readonly string[] = [
  `ALTER TABLE work_package ADD COLUMN IF NOT EXISTS queue_priority integer NOT NULL DEFAULT 1
     CONSTRAINT work_package_queue_priority_range CHECK (queue_priority BETWEEN 1 AND 2097151)`,
  `ALTER TABLE work_package ADD COLUMN IF NOT EXISTS refine_gas bigint NOT NULL DEFAULT 0
     CONSTRAINT work_package_refine_gas_range CHECK (refine_gas >= 0)`,
];

const DOWN: readonly string[] = ['ALTER TABLE work_package DROP COLUMN IF EXISTS refine_gas', 'ALTER TABLE work_package DROP COLUMN IF EXISTS queue_priority'];

/** Per-package queue priority for fair sharing between submitters. */
export class PackageQueuePriority1766000000000 implements MigrationInterface {
  name = 'PackageQueuePriority1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
