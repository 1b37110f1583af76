/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * The guest's log lines and trap detail of each work item's refine are kept beside the report
 * (issue 10 item 3): `work_report.guest_log`, JSON `[{item_index, service_id, logs, trap}]`.
 * Not part of the encoded report and not covered by the report hash, so attesters never sign it
 * (docs/service-abi.md, "Guest logs and trap detail"). Null for reports made before this column.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `work_report.guest_log`: what refine logged and where it trapped, per work item. */
export class GuestLogs1768500000000 implements MigrationInterface {
  name = 'GuestLogs1768500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE work_report ADD COLUMN IF NOT EXISTS guest_log jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE work_report DROP COLUMN IF EXISTS guest_log');
  }
}
