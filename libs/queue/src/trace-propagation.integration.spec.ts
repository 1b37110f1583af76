import { randomBytes } from 'node:crypto';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { REFINE_PACKAGE_V1, refineJobId, refineQueueName } from '@jam/queue-contracts';
import { SpanKind, startTracing, withJobSpan, withSpan } from '@jam/telemetry';
import { FAST_JOB_OPTIONS, waitFor } from './job-queue.contract';
import type { ConsumedJob, JobQueue } from './job-queue.port';
import { createInProcessQueue } from './in-process.queue';
import { createBullMqPostgresQueue, createBullMqQueue, migrateBullMqPostgresSchema } from './bullmq.queue';
import { createTestSchema } from '../../../test/support/database';
import { REDIS_URL, createTestRedis } from '../../../test/support/redis';

interface Harness {
  queue: JobQueue;
  cleanup(): Promise<void>;
}

const drivers: [string, () => Promise<Harness>][] = [
  ['in-process', async () => ({ queue: createInProcessQueue({ jobOptions: () => FAST_JOB_OPTIONS }), cleanup: async () => undefined })],
  [
    'bullmq-redis',
    async () => {
      // Shared Redis: cleanup deletes only this test's keys.
      const testRedis = createTestRedis('test-');
      return {
        queue: createBullMqQueue({ redisUrl: REDIS_URL, prefix: testRedis.prefix, jobOptions: () => FAST_JOB_OPTIONS, onWarning: () => undefined }),
        cleanup: async () => void (await testRedis.cleanup()),
      };
    },
  ],
  [
    'bullmq-postgres',
    async () => {
      const { url: databaseUrl, schema, drop } = createTestSchema('test');
      await migrateBullMqPostgresSchema({ databaseUrl, schema });
      return {
        queue: createBullMqPostgresQueue({ databaseUrl, schema, jobOptions: () => FAST_JOB_OPTIONS }),
        cleanup: drop,
      };
    },
  ],
];

const refineJob = () => {
  const packageHash = `0x${randomBytes(32).toString('hex')}`;
  return { jobId: refineJobId(packageHash, 0), payload: { package_hash: packageHash, attester_index: 0 } };
};

describe.each(drivers)('trace context across the queue hop: %s', (_driver, make) => {
  const q = refineQueueName(0);
  let h: Harness;
  beforeEach(async () => {
    h = await make();
  });
  afterEach(async () => {
    await h.queue.close();
    await h.cleanup();
  });

  it('makes the enqueuing span the parent of the handler span; payload untouched', async () => {
    const exporter = new InMemorySpanExporter();
    const stop = startTracing({ serviceName: 'jam-test', enabled: true, exporter });
    try {
      const seen: ConsumedJob[] = [];
      h.queue.process(
        q,
        (job) => withJobSpan({ queue: q, name: job.name, id: job.id, attempt: job.attempt, traceContext: job.traceContext }, async () => void seen.push(job)),
        { concurrency: 2 },
      );
      const traced = refineJob();
      await withSpan('POST /jam/packages', {}, () => h.queue.enqueue(q, REFINE_PACKAGE_V1, traced.payload, { jobId: traced.jobId }));
      // Enqueued outside any span: a job without a carrier still runs, as a new root.
      const untraced = refineJob();
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, untraced.payload, { jobId: untraced.jobId });
      await waitFor(() => exporter.getFinishedSpans().length >= 3, 'three spans');

      const spans = exporter.getFinishedSpans();
      const producer = spans.find((s) => s.name === 'POST /jam/packages');
      const consumers = spans.filter((s) => s.kind === SpanKind.CONSUMER);
      const child = consumers.find((s) => s.attributes['messaging.message.id'] === traced.jobId);
      const root = consumers.find((s) => s.attributes['messaging.message.id'] === untraced.jobId);
      expect(child?.spanContext().traceId).toBe(producer?.spanContext().traceId);
      expect(child?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
      expect(root?.parentSpanContext).toBeUndefined();
      expect(root?.spanContext().traceId).not.toBe(producer?.spanContext().traceId);

      const tracedJob = seen.find((j) => j.id === traced.jobId);
      expect(tracedJob?.payload).toEqual(traced.payload);
      expect(tracedJob?.traceContext?.['traceparent']).toContain(producer?.spanContext().traceId);
      expect(seen.find((j) => j.id === untraced.jobId)?.traceContext).toBeUndefined();
    } finally {
      await stop();
    }
  });

  it('with tracing off records nothing, carries nothing, and still runs handlers', async () => {
    const exporter = new InMemorySpanExporter();
    const stop = startTracing({ serviceName: 'jam-test', enabled: false, exporter });
    try {
      const seen: ConsumedJob[] = [];
      h.queue.process(
        q,
        (job) => withJobSpan({ queue: q, name: job.name, id: job.id, attempt: job.attempt, traceContext: job.traceContext }, async () => void seen.push(job)),
        { concurrency: 1 },
      );
      const job = refineJob();
      await withSpan('POST /jam/packages', {}, () => h.queue.enqueue(q, REFINE_PACKAGE_V1, job.payload, { jobId: job.jobId }));
      await waitFor(() => seen.length === 1, 'handler run');
      expect(seen[0]?.traceContext).toBeUndefined();
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      await stop();
    }
  });
});
