import { randomBytes } from 'node:crypto';
import {
  ACCUMULATE_QUEUE,
  ACCUMULATE_REPORT_V1,
  MAX_JOB_PRIORITY,
  REFINE_PACKAGE_V1,
  parseJobPayload,
  refineExpressQueueName,
  refineJobId,
  refineQueueName,
  type JobOptionsPolicy,
} from '@jam/queue-contracts';
import type { ConsumedJob, JobQueue, JobQueueDriverOptions } from './job-queue.port';
import { PermanentJobError } from './permanent-job.error';

/**
 * The one behavioural contract every JobQueue driver passes. A driver spec calls
 * `describeJobQueueContract` with a factory that builds an isolated instance (own Redis prefix,
 * own Postgres schema) and a cleanup that removes only what that instance created.
 */
export interface ContractHarness {
  queue: JobQueue;
  cleanup(): Promise<void>;
}
export type ContractFactory = (opts: Required<Pick<JobQueueDriverOptions, 'jobOptions' | 'onError'>>) => Promise<ContractHarness>;

/** Short backoff so retries finish in milliseconds; the shape is the production one. */
export const FAST_JOB_OPTIONS: JobOptionsPolicy = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 20 },
  removeOnComplete: true,
  removeOnFail: { age: 3600, count: 100 },
};

const hash = (): `0x${string}` => `0x${randomBytes(32).toString('hex')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function describeJobQueueContract(driver: string, factory: ContractFactory): void {
  describe(`JobQueue contract: ${driver}`, () => {
    let h: ContractHarness;
    let infraErrors: Error[];
    const q = refineQueueName(0);

    beforeEach(async () => {
      infraErrors = [];
      h = await factory({ jobOptions: () => FAST_JOB_OPTIONS, onError: (e) => infraErrors.push(e) });
    });
    afterEach(async () => {
      await h.queue.close();
      await h.cleanup();
      expect(infraErrors).toEqual([]);
    });

    const refineJob = (): { jobId: string; payload: { package_hash: string; attester_index: number } } => {
      const packageHash = hash();
      return { jobId: refineJobId(packageHash, 0), payload: { package_hash: packageHash, attester_index: 0 } };
    };
    const drained = async (): Promise<boolean> => {
      const c = await h.queue.counts(q);
      return c.waiting + c.active + c.delayed === 0;
    };

    it('collapses duplicate enqueues of one jobId into one run', async () => {
      const { jobId, payload } = refineJob();
      for (let i = 0; i < 3; i++) await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      expect(await h.queue.isQueued(q, jobId)).toBe(true);
      expect((await h.queue.counts(q)).waiting).toBe(1);
      const runs: ConsumedJob[] = [];
      h.queue.process(q, async (job) => void runs.push(job), { concurrency: 4 });
      await waitFor(drained, 'drain');
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ id: jobId, name: REFINE_PACKAGE_V1, payload, attempt: 1 });
      expect(await h.queue.isQueued(q, jobId)).toBe(false);
    });

    it('retries a transient error with backoff, then succeeds', async () => {
      const { jobId, payload } = refineJob();
      const attempts: number[] = [];
      h.queue.process(
        q,
        async (job) => {
          attempts.push(job.attempt);
          if (job.attempt < 3) throw new Error('database briefly unreachable');
        },
        { concurrency: 1 },
      );
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(async () => attempts.length === 3 && (await drained()), 'three attempts');
      expect(attempts).toEqual([1, 2, 3]);
      expect((await h.queue.counts(q)).failed).toBe(0);
    });

    it('fails a job after its last attempt and keeps it failed', async () => {
      const { jobId, payload } = refineJob();
      let runs = 0;
      h.queue.process(
        q,
        async () => {
          runs++;
          throw new Error('still down');
        },
        { concurrency: 1 },
      );
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(async () => (await h.queue.counts(q)).failed === 1, 'failed');
      expect(runs).toBe(FAST_JOB_OPTIONS.attempts);
    });

    it('does not retry a PermanentJobError, and a kept failed job still dedupes its id', async () => {
      const { jobId, payload } = refineJob();
      let runs = 0;
      h.queue.process(
        q,
        async () => {
          runs++;
          throw new PermanentJobError('guest trapped', 'guest_trap');
        },
        { concurrency: 1 },
      );
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(async () => (await h.queue.counts(q)).failed === 1, 'failed');
      expect(await h.queue.isQueued(q, jobId)).toBe(false);
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await sleep(200);
      expect(runs).toBe(1);
      expect(await h.queue.counts(q)).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 1 });
      // The reconciler's way out: remove the kept failed job, then the id runs again.
      expect(await h.queue.removeFailed(q, jobId)).toBe(true);
      expect(await h.queue.removeFailed(q, jobId)).toBe(false);
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(async () => runs === 2, 'second run');
    });

    it('fails a malformed payload at once (MalformedJobError is final)', async () => {
      const seen: string[] = [];
      h.queue.process(
        ACCUMULATE_QUEUE,
        async (job) => {
          seen.push(job.id);
          parseJobPayload(job.name, job.payload);
        },
        { concurrency: 1 },
      );
      // A producer on an older or broken build: bypass the static payload type.
      const bad = { report_hash: 'not-a-hash', package_hash: hash() } as unknown as { report_hash: string; package_hash: string };
      await h.queue.enqueue(ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, bad, { jobId: 'accumulate-malformed' });
      await waitFor(async () => (await h.queue.counts(ACCUMULATE_QUEUE)).failed === 1, 'failed');
      expect(seen).toEqual(['accumulate-malformed']);
    });

    it('never runs more handlers at once than the concurrency', async () => {
      let active = 0;
      let peak = 0;
      let done = 0;
      h.queue.process(
        q,
        async () => {
          active++;
          peak = Math.max(peak, active);
          await sleep(80);
          active--;
          done++;
        },
        { concurrency: 3 },
      );
      for (let i = 0; i < 9; i++) {
        const { jobId, payload } = refineJob();
        await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      }
      await waitFor(() => done === 9, 'nine jobs');
      expect(peak).toBe(3);
    });

    it('close waits for the active handler to finish', async () => {
      let started = false;
      let finished = false;
      h.queue.process(
        q,
        async () => {
          started = true;
          await sleep(400);
          finished = true;
        },
        { concurrency: 1 },
      );
      const { jobId, payload } = refineJob();
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(() => started, 'start');
      await h.queue.close();
      expect(finished).toBe(true);
    });

    it('runs the same jobId again when re-enqueued after completion', async () => {
      const { jobId, payload } = refineJob();
      let runs = 0;
      h.queue.process(q, async () => void runs++, { concurrency: 1 });
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(async () => runs === 1 && !(await h.queue.isQueued(q, jobId)), 'first run');
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId });
      await waitFor(async () => runs === 2 && !(await h.queue.isQueued(q, jobId)), 'second run');
    });

    it('runs a waiting job of a lower priority number first, FIFO within one priority, unprioritized jobs before all', async () => {
      // A flooding tenant's backlog (priorities 5, 6, 7, 7) is queued before a quiet tenant's
      // package (priority 1) and a janitor-like job without priority (docs/fairness.md).
      const enqueued: Array<{ label: string; priority?: number }> = [
        { label: 'flood-1', priority: 5 },
        { label: 'flood-2', priority: 6 },
        { label: 'flood-3', priority: 7 },
        { label: 'flood-4', priority: 7 },
        { label: 'quiet-1', priority: 1 },
        { label: 'unprioritized' },
        { label: 'quiet-2', priority: 1 },
      ];
      const labelOf = new Map<string, string>();
      for (const e of enqueued) {
        const { jobId, payload } = refineJob();
        labelOf.set(jobId, e.label);
        await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId, ...(e.priority !== undefined ? { priority: e.priority } : {}) });
      }
      expect((await h.queue.counts(q)).waiting).toBe(enqueued.length);
      const order: string[] = [];
      h.queue.process(q, async (job) => void order.push(labelOf.get(job.id) ?? job.id), { concurrency: 1 });
      await waitFor(async () => order.length === enqueued.length && (await drained()), 'all jobs');
      expect(order).toEqual(['unprioritized', 'quiet-1', 'quiet-2', 'flood-1', 'flood-2', 'flood-3', 'flood-4']);
    });

    it('refuses a priority outside 1..MAX_JOB_PRIORITY and enqueues nothing', async () => {
      for (const priority of [0, -1, 1.5, MAX_JOB_PRIORITY + 1]) {
        const { jobId, payload } = refineJob();
        await expect(h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId, priority })).rejects.toThrow(RangeError);
        expect(await h.queue.isQueued(q, jobId)).toBe(false);
      }
      const { jobId, payload } = refineJob();
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId, priority: MAX_JOB_PRIORITY });
      expect(await h.queue.isQueued(q, jobId)).toBe(true);
    });

    it('keeps the priority of a job across retries', async () => {
      // A flood job (priority 9) fails; while a blocker runs, both its retry and a quiet tenant's
      // delayed job (priority 5) become due. The quiet job runs first: the retry kept priority 9
      // (an unprioritized retry would run before every prioritized job).
      const flood = refineJob();
      const blocker = refineJob();
      const quiet = refineJob();
      const names = new Map([
        [flood.jobId, 'flood'],
        [blocker.jobId, 'blocker'],
        [quiet.jobId, 'quiet'],
      ]);
      const order: string[] = [];
      h.queue.process(
        q,
        async (job) => {
          order.push(`${names.get(job.id) ?? job.id}#${job.attempt}`);
          if (job.id === flood.jobId && job.attempt === 1) {
            await h.queue.enqueue(q, REFINE_PACKAGE_V1, blocker.payload, { jobId: blocker.jobId, priority: 1 });
            await h.queue.enqueue(q, REFINE_PACKAGE_V1, quiet.payload, { jobId: quiet.jobId, priority: 5, delayMs: 30 });
            throw new Error('transient');
          }
          // Longer than the retry's 20 ms backoff and the quiet job's 30 ms delay.
          if (job.id === blocker.jobId) await sleep(300);
        },
        { concurrency: 1 },
      );
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, flood.payload, { jobId: flood.jobId, priority: 9 });
      await waitFor(async () => order.length === 4 && (await drained()), 'four runs');
      expect(order).toEqual(['flood#1', 'blocker#1', 'quiet#1', 'flood#2']);
    });

    it("runs an attester's express refine queue while every slot of its general refine queue is held (docs/fairness.md)", async () => {
      // The general queue's one slot is held by a job that runs until released; the express queue
      // has its own consumer, so a job enqueued there (same job id as a general one may have) runs.
      const express = refineExpressQueueName(0);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const started: string[] = [];
      h.queue.process(q, async (job) => void (started.push(`general ${job.id}`), await held), { concurrency: 1 });
      h.queue.process(express, async (job) => void started.push(`express ${job.id}`), { concurrency: 1 });
      const [long1, long2, short] = [refineJob(), refineJob(), refineJob()];
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, long1.payload, { jobId: long1.jobId, priority: 5 });
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, long2.payload, { jobId: long2.jobId, priority: 5 });
      await waitFor(() => started.length === 1, 'the general slot taken');
      await h.queue.enqueue(express, REFINE_PACKAGE_V1, short.payload, { jobId: short.jobId, priority: 1 });
      await waitFor(async () => !(await h.queue.isQueued(express, short.jobId)), 'the express job done');
      expect(started).toEqual([`general ${long1.jobId}`, `express ${short.jobId}`]);
      expect(await h.queue.isQueued(q, long2.jobId)).toBe(true);
      release();
      await waitFor(drained, 'drain');
      expect(started).toEqual([`general ${long1.jobId}`, `express ${short.jobId}`, `general ${long2.jobId}`]);
    });

    it('holds a delayed job until its time', async () => {
      const { jobId, payload } = refineJob();
      let ranAt = 0;
      const enqueuedAt = Date.now();
      h.queue.process(q, async () => void (ranAt = Date.now()), { concurrency: 1 });
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, payload, { jobId, delayMs: 300 });
      expect(await h.queue.isQueued(q, jobId)).toBe(true);
      await waitFor(() => ranAt > 0, 'delayed run');
      expect(ranAt - enqueuedAt).toBeGreaterThanOrEqual(290);
    });

    it('tells the handler when the job became runnable (enqueue time plus delay; the queue-wait metric)', async () => {
      const seen: { readyAt: number | undefined; startedAt: number }[] = [];
      h.queue.process(q, async (job) => void seen.push({ readyAt: job.readyAt, startedAt: Date.now() }), { concurrency: 1 });
      const before = Date.now();
      const now = refineJob();
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, now.payload, { jobId: now.jobId });
      const later = refineJob();
      await h.queue.enqueue(q, REFINE_PACKAGE_V1, later.payload, { jobId: later.jobId, delayMs: 300 });
      const after = Date.now();
      await waitFor(() => seen.length === 2, 'both runs');
      const [first, second] = seen.sort((a, b) => a.readyAt! - b.readyAt!);
      // Redis and Node clocks are the same machine's here; allow a few ms of rounding.
      expect(first!.readyAt).toBeGreaterThanOrEqual(before - 5);
      expect(first!.readyAt).toBeLessThanOrEqual(first!.startedAt + 5);
      expect(second!.readyAt).toBeGreaterThanOrEqual(before + 300 - 5);
      expect(second!.readyAt).toBeLessThanOrEqual(after + 300 + 5);
    });
  });
}
