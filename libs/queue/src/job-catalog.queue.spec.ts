import {
  ACCUMULATE_QUEUE,
  ACCUMULATE_REPORT_JOB,
  ACCUMULATE_REPORT_V1,
  JANITOR_QUEUE,
  MalformedJobError,
  RECONCILE_JOB,
  RECONCILE_V1,
  REFINE_PACKAGE_JOB,
  REFINE_PACKAGE_V1,
  refineQueueName,
  type AccumulateReportV1,
} from '@jam/queue-contracts';
import { createInProcessQueue } from './in-process.queue';
import { consume, enqueue, jobDispatcher } from './index';
import type { ConsumedJob } from './job-queue.port';

const H1 = `0x${'ab'.repeat(32)}`;
const H2 = `0x${'01'.repeat(32)}`;

/** Resolves once `n` values were pushed to the returned array. */
function collector<T>(n: number): { items: T[]; done: Promise<void>; push: (t: T) => void } {
  const items: T[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { items, done, push: (t) => (items.push(t), items.length >= n && resolve()) };
}

describe('enqueue and consume through the job catalog', () => {
  it('puts a job on its catalog queue under its deterministic id, once, and hands the handler the parsed payload', async () => {
    const queue = createInProcessQueue();
    try {
      const got = collector<[string, AccumulateReportV1]>(1);
      consume(queue, ACCUMULATE_QUEUE, { [ACCUMULATE_REPORT_V1]: async (job, payload) => got.push([job.id, payload]) }, { concurrency: 1 });
      const payload = { report_hash: H1, package_hash: H2 };
      const first = await enqueue(queue, ACCUMULATE_REPORT_JOB, payload, { delayMs: 200 });
      const again = await enqueue(queue, ACCUMULATE_REPORT_JOB, payload);
      expect(first).toEqual({ queue: 'accumulate', jobId: `accumulate-${H1}` });
      expect(again).toEqual(first);
      expect(await queue.isQueued('accumulate', `accumulate-${H1}`)).toBe(true);
      await got.done;
      expect(got.items).toEqual([[`accumulate-${H1}`, payload]]);
      expect((await queue.counts(ACCUMULATE_QUEUE)).waiting).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it('routes refine jobs to the attester’s own queue and janitor tasks to their bucket id', async () => {
    const queue = createInProcessQueue();
    try {
      expect(await enqueue(queue, REFINE_PACKAGE_JOB, { package_hash: H1, attester_index: 1 })).toEqual({ queue: 'refine-a1', jobId: `refine-${H1}-a1` });
      expect(await queue.isQueued(refineQueueName(1), `refine-${H1}-a1`)).toBe(true);
      expect(await queue.isQueued(refineQueueName(0), `refine-${H1}-a1`)).toBe(false);
      expect(await enqueue(queue, RECONCILE_JOB, {}, { bucket: 9 })).toEqual({ queue: JANITOR_QUEUE, jobId: 'reconcile-9' });
    } finally {
      await queue.close();
    }
  });

  it('fails a job of another queue or with a bad payload as final, without calling a handler', async () => {
    let calls = 0;
    const dispatch = jobDispatcher('accumulate', { [ACCUMULATE_REPORT_V1]: async () => void calls++ });
    const job = (name: ConsumedJob['name'], payload: unknown): ConsumedJob => ({ id: 'x', name, payload, attempt: 1 });
    await expect(dispatch(job(REFINE_PACKAGE_V1, { package_hash: H1, attester_index: 0 }))).rejects.toBeInstanceOf(MalformedJobError);
    await expect(dispatch(job(ACCUMULATE_REPORT_V1, { report_hash: H1 }))).rejects.toThrow(/package_hash/);
    await dispatch(job(ACCUMULATE_REPORT_V1, { report_hash: H1, package_hash: H2 }));
    expect(calls).toBe(1);
  });

  it('makes a missing or misplaced handler a compile error', () => {
    // @ts-expect-error: the janitor queue needs a handler for each of its four tasks
    expect(() => jobDispatcher('janitor', { [RECONCILE_V1]: async () => undefined })).not.toThrow();
    // @ts-expect-error: a refine queue takes refine-package.v1 only
    expect(() => jobDispatcher('refine', { [ACCUMULATE_REPORT_V1]: async () => undefined })).not.toThrow();
  });
});
