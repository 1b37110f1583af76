/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * The sandbox out of the accumulate lock (issue 8; docs/performance.md section 14): accumulate held
 * the service row lock (`SELECT ... FOR UPDATE`) while the sandbox ran, so every other report of the
 * service waited for the whole run (13.8 ms of lock wait per package). Now it reads the service's
 * storage and `service.state_version` without a lock, runs the sandbox, then under the lock applies
 * the writes only if the version is unchanged (compare-and-set), else runs again on the new state.
 *
 * `state_version` counts the statements that changed the service's storage: statement-level
 * triggers on service_storage (one per event: PostgreSQL allows transition tables on single-event
 * triggers only) bump it in the writer's transaction, so every writer of service_storage, present or
 * future, moves it, not only AccumulationRepository.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const EVENTS = [
  { event: 'INSERT', table: 'NEW TABLE AS changed' },
  { event: 'UPDATE', table: 'NEW TABLE AS changed' },
  { event: 'DELETE', table: 'OLD TABLE AS changed' },
] as const;

const UP: readonly string[] = [
  `ALTER TABLE service ADD COLUMN IF NOT EXISTS state_version bigint NOT NULL DEFAULT 0`,
  `CREATE OR REPLACE FUNCTION service_storage_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     UPDATE service SET state_version = state_version + 1 WHERE id IN (SELECT DISTINCT service_id FROM changed);
     RETURN NULL;
   END $$`,
  ...EVENTS.flatMap(({ event, table }) => [
    `DROP TRIGGER IF EXISTS service_storage_version_${event.toLowerCase()} ON service_storage`,
    `CREATE TRIGGER service_storage_version_${event.toLowerCase()} AFTER ${event} ON service_storage
       REFERENCING ${table} FOR EACH STATEMENT EXECUTE FUNCTION service_storage_bump_version()`,
  ]),
];

const DOWN: readonly string[] = [
  ...EVENTS.map(({ event }) => `DROP TRIGGER IF EXISTS service_storage_version_${event.toLowerCase()} ON service_storage`),
  'DROP FUNCTION IF EXISTS service_storage_bump_version()',
  'ALTER TABLE service DROP COLUMN IF EXISTS state_version',
];

/** `service.state_version`, moved by every statement that changes the service's storage. */
export class ServiceStateVersion1770400000000 implements MigrationInterface {
  name = 'ServiceStateVersion1770400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
