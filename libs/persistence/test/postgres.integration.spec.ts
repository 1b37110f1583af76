import { createTestDatabase, type TestDatabase as CreatedDatabase } from '../../../test/support/database';
import { describePersistence, type TestDatabase } from './persistence-suite';

/** The CI PostgreSQL 15 (trust auth); the suite creates and drops its own database in it (test/support/database.ts). */
describe('persistence on PostgreSQL', () => {
  let created: CreatedDatabase | undefined;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    created = await createTestDatabase('persist');
    db = { url: created.url, poolSize: 10 };
  });

  describePersistence(() => {
    if (!db) throw new Error('database not created');
    return db;
  });

  afterAll(async () => {
    await created?.drop();
  });
});
