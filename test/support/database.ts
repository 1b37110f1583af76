/**
 * The one PostgreSQL fixture of the integration and e2e specs: a fresh database with a unique name
 * in the shared test server, optionally migrated with an open DataSource, dropped at the end
 * (`WITH (FORCE)`: processes a spec killed may still hold connections). Never touches a database
 * it did not create. The Redis counterpart is `test/support/redis.ts`.
 *
 * Typical use:
 *   let db: MigratedTestDatabase;
 *   beforeAll(async () => { db = await createMigratedDatabase('janitor'); });
 *   afterAll(() => db?.drop());
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, createRepositories, runMigrations, type Repositories } from '@jam/persistence';

/**
 * The shared test PostgreSQL (trust auth) as an admin URL: `JAM_TEST_POSTGRES_URL`, or the CI
 * server `postgres://postgres@127.0.0.1:5432/test`. Specs create their databases from it; in the
 * database it names they write only schemas of their own (`createTestSchema`).
 */
export const PG_ADMIN_URL = process.env['JAM_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database this fixture created; `drop()` removes it (idempotent). */
export interface TestDatabase {
  /** `jam_<tag>_<12 hex>`: unique per call, a plain identifier (no quoting needed). */
  readonly name: string;
  /** Connection URL of the database (the admin URL with its path replaced). */
  readonly url: string;
  /** Closes what the fixture opened on it, then drops the database, even when processes are still connected. */
  drop(): Promise<void>;
}

/** A migrated test database with an initialized DataSource and the repositories on it. */
export interface MigratedTestDatabase extends TestDatabase {
  readonly dataSource: DataSource;
  readonly repos: Repositories;
}

/** Runs one statement on the admin database with a short-lived connection. */
async function adminQuery(sql: string): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** URL of database `name` on the test server. */
export function testDatabaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Creates an empty database `jam_<tag>_<12 hex>` (no migrations: for specs whose processes run
 * them at boot, as the gateway does).
 * @param tag lowercase letters, digits and `_` (part of an SQL identifier); names the spec in `\l`
 * @throws RangeError for a tag that is not a plain identifier part
 */
export async function createTestDatabase(tag: string): Promise<TestDatabase> {
  if (!/^[a-z0-9_]{1,40}$/.test(tag)) throw new RangeError(`database tag must match [a-z0-9_]{1,40}, got ${JSON.stringify(tag)}`);
  const name = `jam_${tag}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  let dropped = false;
  return {
    name,
    url: testDatabaseUrl(name),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * Creates a database as `createTestDatabase` does, runs every migration on it and opens a
 * DataSource (`poolSize` connections, default 4) with the repositories; `drop()` destroys the
 * DataSource first.
 */
export async function createMigratedDatabase(tag: string, opts: { poolSize?: number } = {}): Promise<MigratedTestDatabase> {
  const db = await createTestDatabase(tag);
  const dataSource = createDataSource({ url: db.url, poolSize: opts.poolSize ?? 4 });
  try {
    await runMigrations(dataSource);
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await db.drop();
    throw err;
  }
  return {
    name: db.name,
    url: db.url,
    dataSource,
    repos: createRepositories(dataSource),
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.drop();
    },
  };
}

/** A schema of the shared test database, for drivers that take one (the BullMQ-on-PostgreSQL queue). */
export interface TestSchema {
  /** URL of the shared test database (`PG_ADMIN_URL`). */
  readonly url: string;
  /** `jam<tag>_<12 hex>`: unique per call; the driver's own migration creates it. */
  readonly schema: string;
  /** Drops the schema with everything in it (idempotent); never another schema. */
  drop(): Promise<void>;
}

/**
 * Names a fresh schema in the shared test database (lighter than a database when every test of a
 * contract suite wants its own store); the caller's migration creates it, `drop()` removes it.
 * @param tag lowercase letters, digits and `_`
 * @throws RangeError for a tag that is not a plain identifier part
 */
export function createTestSchema(tag: string): TestSchema {
  if (!/^[a-z0-9_]{1,40}$/.test(tag)) throw new RangeError(`schema tag must match [a-z0-9_]{1,40}, got ${JSON.stringify(tag)}`);
  const schema = `jam${tag}_${randomBytes(6).toString('hex')}`;
  let dropped = false;
  return {
    url: PG_ADMIN_URL,
    schema,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}
