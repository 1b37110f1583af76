import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describePersistence, type TestDatabase } from './persistence-suite';

/** The CI PostgreSQL 15 (trust auth); the suite creates and drops its own database in it. */
const ADMIN_URL = process.env['JAM_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('persistence on PostgreSQL', () => {
  const name = `jam_persist_${randomBytes(6).toString('hex')}`;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    db = { url: url.toString(), poolSize: 10 };
  });

  describePersistence(() => {
    if (!db) throw new Error('database not created');
    return db;
  });

  afterAll(async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });
});
