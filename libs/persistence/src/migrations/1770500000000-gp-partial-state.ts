/*
 * WARNING: append-only like every migration (see 1760000000000-initial-schema.ts): once applied
 * somewhere, never edit it; add a new file instead and register it in PERSISTENCE_MIGRATIONS.
 *
 * The GP 0.7.2 partial state of PVM services (issue 9 item 4; docs/service-abi.md, "GP accumulate
 * state"): what accumulation reads and writes beyond a service's storage.
 * Every table is per owner (the tenant, `service.owner`): each tenant has its own partial state,
 * chain row and version, and no accumulation sees another tenant's accounts (docs/security.md,
 * "GP accumulate state per tenant").
 * - `gp_account`: its owner and a service account's fields (GP 0.7.2 section 9: a_c, a_b, a_g, a_m, a_o, a_f,
 *   a_i, a_r, a_a, a_p). Ids are u32 (`new` picks ids up to 2^32 - 1), hence bigint.
 * - `gp_preimage` (a_p) and `gp_preimage_request` (a_l: up to 3 timeslots per (hash, length)).
 * - `gp_chain_state` (one row per owner, made by its first accumulation): τ (slot), η'_0 (entropy), the privileges, the last accumulation
 *   output root and `version`, the compare-and-set counter every GP accumulation moves.
 * - `gp_ready_record` (ϑ, E slots of reports waiting for packages) and `gp_accumulated` (ξ, E
 *   slots of accumulated package hashes); `gp_accumulation_output` and `gp_accumulate_statistics`
 *   of the last accumulation.
 * Storage (a_s) stays in `service_storage`, now also for accounts `new` creates, which are not
 * rows of `service` (their code is solicited, never uploaded): its foreign key to `service` goes
 * and its `service_id` becomes bigint (u32 ids). Rewrites `service_storage` once.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

const U64 = (c: string) => `numeric(20, 0) NOT NULL CHECK (${c} >= 0 AND ${c} < 18446744073709551616)`;
const U32 = (c: string) => `bigint NOT NULL CHECK (${c} >= 0 AND ${c} < 4294967296)`;

const UP: readonly string[] = [
  `ALTER TABLE service_storage DROP CONSTRAINT IF EXISTS service_storage_service_id_fkey`,
  `ALTER TABLE service_storage ALTER COLUMN service_id TYPE bigint`,
  `CREATE TABLE IF NOT EXISTS gp_account (
     service_id             ${U32('service_id')} PRIMARY KEY,
     owner                  text NOT NULL,
     code_hash              bytea NOT NULL CHECK (octet_length(code_hash) = 32),
     balance                ${U64('balance')},
     min_item_gas           ${U64('min_item_gas')},
     min_memo_gas           ${U64('min_memo_gas')},
     bytes                  ${U64('bytes')},
     deposit_offset         ${U64('deposit_offset')},
     items                  ${U32('items')},
     creation_slot          ${U32('creation_slot')},
     last_accumulation_slot ${U32('last_accumulation_slot')},
     parent_service         ${U32('parent_service')}
   )`,
  `CREATE INDEX IF NOT EXISTS gp_account_owner_idx ON gp_account (owner)`,
  `CREATE TABLE IF NOT EXISTS gp_preimage (
     service_id bigint NOT NULL REFERENCES gp_account (service_id) ON DELETE CASCADE,
     hash       bytea  NOT NULL CHECK (octet_length(hash) = 32),
     blob       bytea  NOT NULL,
     PRIMARY KEY (service_id, hash)
   )`,
  `CREATE TABLE IF NOT EXISTS gp_preimage_request (
     service_id bigint   NOT NULL REFERENCES gp_account (service_id) ON DELETE CASCADE,
     hash       bytea    NOT NULL CHECK (octet_length(hash) = 32),
     length     ${U32('length')},
     slots      bigint[] NOT NULL CHECK (cardinality(slots) <= 3),
     PRIMARY KEY (service_id, hash, length)
   )`,
  `CREATE TABLE IF NOT EXISTS gp_chain_state (
     owner       text   PRIMARY KEY,
     slot        ${U32('slot')},
     entropy     bytea  NOT NULL CHECK (octet_length(entropy) = 32),
     privileges  jsonb  NOT NULL,
     output_root bytea  NOT NULL CHECK (octet_length(output_root) = 32),
     version     bigint NOT NULL DEFAULT 0
   )`,
  `CREATE TABLE IF NOT EXISTS gp_ready_record (
     owner        text    NOT NULL,
     slot_index   integer NOT NULL CHECK (slot_index >= 0),
     position     integer NOT NULL CHECK (position >= 0),
     report       bytea   NOT NULL,
     dependencies bytea[] NOT NULL,
     PRIMARY KEY (owner, slot_index, position)
   )`,
  `CREATE TABLE IF NOT EXISTS gp_accumulated (
     owner        text    NOT NULL,
     slot_index   integer NOT NULL CHECK (slot_index >= 0),
     package_hash bytea   NOT NULL CHECK (octet_length(package_hash) = 32),
     PRIMARY KEY (owner, slot_index, package_hash)
   )`,
  `CREATE TABLE IF NOT EXISTS gp_accumulation_output (
     owner      text NOT NULL,
     service_id ${U32('service_id')},
     hash       bytea NOT NULL CHECK (octet_length(hash) = 32),
     PRIMARY KEY (owner, service_id, hash)
   )`,
  `CREATE TABLE IF NOT EXISTS gp_accumulate_statistics (
     owner      text NOT NULL,
     service_id ${U32('service_id')},
     count      bigint NOT NULL CHECK (count >= 0),
     gas_used   ${U64('gas_used')},
     PRIMARY KEY (owner, service_id)
   )`,
];

const DOWN: readonly string[] = [
  'DROP TABLE IF EXISTS gp_accumulate_statistics',
  'DROP TABLE IF EXISTS gp_accumulation_output',
  'DROP TABLE IF EXISTS gp_accumulated',
  'DROP TABLE IF EXISTS gp_ready_record',
  'DROP TABLE IF EXISTS gp_chain_state',
  'DROP TABLE IF EXISTS gp_preimage_request',
  'DROP TABLE IF EXISTS gp_preimage',
  'DROP TABLE IF EXISTS gp_account',
  // rows of accounts `new` created (no `service` row, ids may exceed integer) cannot go back
  'DELETE FROM service_storage WHERE service_id NOT IN (SELECT id FROM service)',
  'ALTER TABLE service_storage ALTER COLUMN service_id TYPE integer',
  'ALTER TABLE service_storage ADD CONSTRAINT service_storage_service_id_fkey FOREIGN KEY (service_id) REFERENCES service (id)',
];

/** The GP 0.7.2 partial state of PVM services (accounts, preimages, requests, ready queue, history). */
export class GpPartialState1770500000000 implements MigrationInterface {
  name = 'GpPartialState1770500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of UP) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of DOWN) await queryRunner.query(sql);
  }
}
