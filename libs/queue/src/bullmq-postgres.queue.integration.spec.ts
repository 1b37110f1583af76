import { createTestSchema } from '../../../test/support/database';
import { describeJobQueueContract } from './job-queue.contract';
import { createBullMqPostgresQueue, migrateBullMqPostgresSchema } from './bullmq.queue';

describeJobQueueContract('bullmq-postgres', async (opts) => {
  // this test's own schema in the shared test database, dropped by cleanup
  const { url: databaseUrl, schema, drop } = createTestSchema('test');
  await migrateBullMqPostgresSchema({ databaseUrl, schema });
  return {
    queue: createBullMqPostgresQueue({ databaseUrl, schema, ...opts }),
    cleanup: drop,
  };
});
