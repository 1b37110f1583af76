import IORedis from 'ioredis';
import { REFINE_PACKAGE_V1, refineQueueName } from '@jam/queue-contracts';
import { REDIS_URL, createTestRedis } from '../../../test/support/redis';
import { describeJobQueueContract } from './job-queue.contract';
import { checkRedisEvictionPolicy, createBullMqQueue } from './bullmq.queue';

describeJobQueueContract('bullmq-redis', async (opts) => {
  // shared Redis: cleanup deletes only the keys under this test's own prefix
  const testRedis = createTestRedis('test-');
  return {
    queue: createBullMqQueue({ redisUrl: REDIS_URL, prefix: testRedis.prefix, ...opts, onWarning: () => undefined }),
    cleanup: async () => void (await testRedis.cleanup()),
  };
});

describe('bullmq-redis driver specifics', () => {
  it('reports the eviction policy check as a warning unless noeviction', async () => {
    const redis = new IORedis(REDIS_URL);
    try {
      const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const message = await checkRedisEvictionPolicy(redis);
      if (reply[1] === 'noeviction') expect(message).toBeUndefined();
      else expect(message).toMatch(/WARNING: Redis maxmemory-policy/);
    } finally {
      await redis.quit();
    }
  });

  it('keeps jobs under its own prefix with the production default options', async () => {
    const testRedis = createTestRedis('test-');
    const { prefix, client: redis } = testRedis;
    const queue = createBullMqQueue({ redisUrl: REDIS_URL, prefix, onWarning: () => undefined });
    try {
      const packageHash = `0x${'ab'.repeat(32)}`;
      await queue.enqueue(refineQueueName(7), REFINE_PACKAGE_V1, { package_hash: packageHash, attester_index: 7 }, { jobId: `refine-${packageHash}-a7` });
      const raw = await redis.hgetall(`${prefix}:refine-a7:refine-${packageHash}-a7`);
      expect(raw['name']).toBe(REFINE_PACKAGE_V1);
      expect(JSON.parse(raw['opts'] ?? '{}')).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 2000 } });
      await expect(queue.enqueue('refine', REFINE_PACKAGE_V1, { package_hash: packageHash, attester_index: 7 }, { jobId: 'x-1' })).rejects.toThrow(RangeError);
    } finally {
      await queue.close();
      await testRedis.cleanup();
    }
  });
});
