import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describeJobQueueContract } from './job-queue.contract';
import { createBullMqPostgresQueue, migrateBullMqPostgresSchema } from './bullmq.queue';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Drops only this test's own schema. */
async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

describeJobQueueContract('bullmq-postgres', async (opts) => {
  const schema = `jamtest_${randomBytes(6).toString('hex')}`;
  await migrateBullMqPostgresSchema({ databaseUrl: DATABASE_URL, schema });
  return {
    queue: createBullMqPostgresQueue({ databaseUrl: DATABASE_URL, schema, ...opts }),
    cleanup: () => dropSchema(schema),
  };
});
