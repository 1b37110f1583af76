/*
 * WARNING: this migration may already be applied to deployed databases. Editing it changes
 * nothing there (TypeORM records it by name and never runs it again) and makes fresh databases
 * differ from old ones. To change the schema, add a new migration file next to this one and
 * register it in MIGRATIONS (data-source.ts). The statements are idempotent (IF NOT EXISTS) so a
 * database created before the migrations table existed can adopt it.
 *
 * Conventions: hashes are `bytea` of exactly 32 bytes (CHECK octet_length), exposed as
 * lowercase `0x` hex by the repositories; gas and byte lengths are `bigint`; times `timestamptz`.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const HASH = (col: string): string => `CHECK (octet_length(${col}) = 32)`;

const UP: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS preimage (
     hash          bytea       PRIMARY KEY ${HASH('hash')},
     length        bigint      NOT NULL CHECK (length >= 0),
     refcount      integer     NOT NULL DEFAULT 0 CHECK (refcount >= 0),
     storage_tier  text        NOT NULL CHECK (storage_tier IN ('fs', 'db', 's3')),
     uploaded_by   text        NOT NULL,
     created_at    timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS service (
     id            integer     GENERATED ALWAYS AS IDENTITY (START WITH 1) PRIMARY KEY,
     code_hash     bytea       NOT NULL REFERENCES preimage (hash) ${HASH('code_hash')},
     owner         text        NOT NULL,
     delegates     text[]      NOT NULL DEFAULT '{}',
     min_item_gas  bigint      NOT NULL CHECK (min_item_gas >= 0),
     min_memo_gas  bigint      NOT NULL CHECK (min_memo_gas >= 0),
     created_at    timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX IF NOT EXISTS service_owner_id_idx ON service (owner, id)`,
  `CREATE TABLE IF NOT EXISTS service_storage (
     service_id    integer     NOT NULL REFERENCES service (id),
     key           bytea       NOT NULL,
     value         bytea       NOT NULL,
     PRIMARY KEY (service_id, key)
   )`,
  `CREATE TABLE IF NOT EXISTS work_package (
     hash           bytea       PRIMARY KEY ${HASH('hash')},
     encoded        bytea       NOT NULL,
     service_ids    integer[]   NOT NULL,
     submitted_by   text        NOT NULL,
     status         text        NOT NULL DEFAULT 'pending' CHECK (status IN
                      ('pending', 'refining', 'attesting', 'attested', 'accumulating',
                       'accumulated', 'failed', 'disputed')),
     report_hash    bytea       NULL ${HASH('report_hash')},
     error_code     text        NULL,
     error_message  text        NULL,
     created_at     timestamptz NOT NULL DEFAULT now(),
     updated_at     timestamptz NOT NULL DEFAULT now(),
     accumulated_at timestamptz NULL
   )`,
  `CREATE INDEX IF NOT EXISTS work_package_status_updated_at_idx ON work_package (status, updated_at)`,
  `CREATE INDEX IF NOT EXISTS work_package_service_ids_idx ON work_package USING gin (service_ids)`,
  `CREATE INDEX IF NOT EXISTS work_package_created_at_hash_idx ON work_package (created_at, hash)`,
  `CREATE INDEX IF NOT EXISTS work_package_in_flight_submitter_idx ON work_package (submitted_by)
     WHERE status IN ('pending', 'refining', 'attesting', 'attested', 'accumulating')`,
  `CREATE TABLE IF NOT EXISTS work_report (
     report_hash   bytea       PRIMARY KEY ${HASH('report_hash')},
     package_hash  bytea       NOT NULL REFERENCES work_package (hash),
     encoded       bytea       NOT NULL,
     engine        text        NOT NULL,
     created_at    timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX IF NOT EXISTS work_report_package_hash_idx ON work_report (package_hash)`,
  `CREATE TABLE IF NOT EXISTS attester (
     "index"       integer     PRIMARY KEY CHECK ("index" >= 0),
     public_key    bytea       NOT NULL UNIQUE ${HASH('public_key')},
     created_at    timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS attestation (
     report_hash    bytea       NOT NULL REFERENCES work_report (report_hash),
     attester_index integer     NOT NULL REFERENCES attester ("index"),
     package_hash   bytea       NOT NULL ${HASH('package_hash')},
     signature      bytea       NOT NULL CHECK (octet_length(signature) = 64),
     created_at     timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (report_hash, attester_index)
   )`,
  `CREATE INDEX IF NOT EXISTS attestation_package_hash_idx ON attestation (package_hash)`,
  `CREATE TABLE IF NOT EXISTS accumulation (
     report_hash   bytea       NOT NULL REFERENCES work_report (report_hash),
     package_hash  bytea       NOT NULL ${HASH('package_hash')},
     service_id    integer     NOT NULL REFERENCES service (id),
     status        text        NOT NULL,
     gas_used      bigint      NOT NULL CHECK (gas_used >= 0),
     applied_at    timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (report_hash, service_id)
   )`,
  `CREATE INDEX IF NOT EXISTS accumulation_service_id_applied_at_idx ON accumulation (service_id, applied_at)`,
  `CREATE TABLE IF NOT EXISTS audit_log (
     id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at               timestamptz NOT NULL DEFAULT now(),
     actor_token_hash bytea       NULL ${HASH('actor_token_hash')},
     action           text        NOT NULL,
     target           text        NULL,
     outcome          text        NOT NULL,
     details          jsonb       NOT NULL DEFAULT '{}'::jsonb
   )`,
];

const DOWN: readonly string[] = [
  'DROP TABLE IF EXISTS audit_log',
  'DROP TABLE IF EXISTS accumulation',
  'DROP TABLE IF EXISTS attestation',
  'DROP TABLE IF EXISTS attester',
  'DROP TABLE IF EXISTS work_report',
  'DROP TABLE IF EXISTS work_package',
  'DROP TABLE IF EXISTS service_storage',
  'DROP TABLE IF EXISTS service',
  'DROP TABLE IF EXISTS preimage',
];

/** Creates every table of the first schema: preimages, services, packages, reports, attestations, accumulations, audit log. */
export class InitialSchema1760000000000 implements MigrationInterface {
  name = 'InitialSchema1760000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
