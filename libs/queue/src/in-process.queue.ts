import { assertJobPriority, backoffDelayMs, defaultJobOptions, type JobName, type JobOptionsPolicy, type JobPayload } from '@jam/queue-contracts';
import type { JobEnqueueOptions, JobHandler, JobQueue, JobQueueDriverOptions, QueueCounts } from './job-queue.port';
import { isFinalJobError, toError } from './permanent-job.error';
import { captureTraceContext } from './trace-carrier';

type JobState = 'waiting' | 'delayed' | 'active' | 'failed';

interface JobRecord {
  readonly id: string;
  readonly name: JobName;
  readonly payload: unknown;
  readonly policy: JobOptionsPolicy;
  readonly traceContext?: Record<string, string>;
  /** 0 = none (runs first), else 1..MAX_JOB_PRIORITY; lower first. */
  readonly priority: number;
  state: JobState;
  attemptsMade: number;
  /** ms since the epoch when the job became runnable (enqueue + delay) */
  readonly readyAt: number;
  timer?: NodeJS.Timeout;
  failedAt?: number;
}

interface QueueState {
  readonly jobs: Map<string, JobRecord>;
  /** Waiting jobs by priority (0 first), FIFO within one priority: the next to run first. */
  readonly waiting: JobRecord[];
  active: number;
  consumer?: { handler: JobHandler; concurrency: number };
}

/**
 * In-memory driver with the BullMQ driver's semantics (jobId dedupe, priorities, exponential
 * retries, final errors, concurrency, kept failed jobs, graceful close). Jobs live only in this process:
 * a crash loses them, and the reconciler re-enqueues from the database rows at start
 * (docs/architecture.md section 6). Used by the embedded mode and by unit tests.
 */
export function createInProcessQueue(opts: JobQueueDriverOptions = {}): JobQueue {
  return new InProcessJobQueue(opts);
}

class InProcessJobQueue implements JobQueue {
  private readonly queues = new Map<string, QueueState>();
  private readonly running = new Set<Promise<void>>();
  private readonly policyFor: (queue: string) => JobOptionsPolicy;
  private closed = false;

  constructor(opts: JobQueueDriverOptions) {
    // No connections, so no infrastructure errors: `opts.onError` is accepted for symmetry only.
    this.policyFor = opts.jobOptions ?? defaultJobOptions;
  }

  async enqueue<N extends JobName>(queue: string, name: N, payload: JobPayload<N>, opts: JobEnqueueOptions): Promise<void> {
    if (this.closed) throw new Error('queue is closed');
    if (opts.priority !== undefined) assertJobPriority(opts.priority);
    const policy = this.policyFor(queue);
    const q = this.state(queue);
    this.pruneFailed(q);
    if (q.jobs.has(opts.jobId)) return;
    // structuredClone: a handler must never see the producer's object (BullMQ serializes too).
    const traceContext = captureTraceContext();
    const delay = opts.delayMs ?? 0;
    const job: JobRecord = {
      id: opts.jobId,
      name,
      payload: structuredClone(payload),
      policy,
      ...(traceContext !== undefined ? { traceContext } : {}),
      priority: opts.priority ?? 0,
      state: 'waiting',
      attemptsMade: 0,
      readyAt: Date.now() + Math.max(0, delay),
    };
    q.jobs.set(job.id, job);
    if (delay > 0) this.delay(queue, q, job, delay);
    else {
      this.makeWaiting(q, job);
      this.pump(queue, q);
    }
  }

  async isQueued(queue: string, jobId: string): Promise<boolean> {
    const state = this.queues.get(queue)?.jobs.get(jobId)?.state;
    return state !== undefined && state !== 'failed';
  }

  async removeFailed(queue: string, jobId: string): Promise<boolean> {
    const q = this.queues.get(queue);
    if (q?.jobs.get(jobId)?.state !== 'failed') return false;
    q.jobs.delete(jobId);
    return true;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const q = this.queues.get(queue);
    const c = { waiting: 0, active: 0, delayed: 0, failed: 0 };
    if (q === undefined) return c;
    this.pruneFailed(q);
    for (const job of q.jobs.values()) c[job.state]++;
    return c;
  }

  process(queue: string, handler: JobHandler, opts: { concurrency: number }): void {
    if (this.closed) throw new Error('queue is closed');
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    const q = this.state(queue);
    if (q.consumer !== undefined) throw new Error(`queue ${queue} already has a consumer`);
    q.consumer = { handler, concurrency: opts.concurrency };
    this.pump(queue, q);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queues.values()) {
      for (const job of q.jobs.values()) if (job.timer !== undefined) clearTimeout(job.timer);
    }
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private state(queue: string): QueueState {
    let q = this.queues.get(queue);
    if (q === undefined) {
      q = { jobs: new Map(), waiting: [], active: 0 };
      this.queues.set(queue, q);
    }
    return q;
  }

  private delay(queue: string, q: QueueState, job: JobRecord, ms: number): void {
    job.state = 'delayed';
    job.timer = setTimeout(() => {
      job.timer = undefined;
      this.makeWaiting(q, job);
      this.pump(queue, q);
    }, ms);
    job.timer.unref();
  }

  /**
   * Inserts `job` after every waiting job of a lower or equal priority (binary search), so equal
   * priorities stay FIFO; a delayed or retried job queues anew when it becomes waiting, as in BullMQ.
   */
  private makeWaiting(q: QueueState, job: JobRecord): void {
    job.state = 'waiting';
    let lo = 0;
    let hi = q.waiting.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q.waiting[mid]!.priority <= job.priority) lo = mid + 1;
      else hi = mid;
    }
    q.waiting.splice(lo, 0, job);
  }

  private pump(queue: string, q: QueueState): void {
    const consumer = q.consumer;
    if (consumer === undefined) return;
    while (!this.closed && q.active < consumer.concurrency) {
      const job = q.waiting.shift();
      if (job === undefined) return;
      if (q.jobs.get(job.id) !== job || job.state !== 'waiting') continue;
      job.state = 'active';
      q.active++;
      const run = this.run(queue, q, job, consumer.handler).finally(() => {
        this.running.delete(run);
        q.active--;
        this.pump(queue, q);
      });
      this.running.add(run);
    }
  }

  private async run(queue: string, q: QueueState, job: JobRecord, handler: JobHandler): Promise<void> {
    try {
      await handler({
        id: job.id,
        name: job.name,
        payload: job.payload,
        attempt: job.attemptsMade + 1,
        readyAt: job.readyAt,
        ...(job.traceContext !== undefined ? { traceContext: { ...job.traceContext } } : {}),
      });
      // removeOnComplete: true, so the id can be enqueued again.
      q.jobs.delete(job.id);
    } catch (caught) {
      const err = toError(caught);
      job.attemptsMade++;
      if (isFinalJobError(err) || job.attemptsMade >= job.policy.attempts || this.closed) {
        // Closing: a retry would be lost anyway; the reconciler re-enqueues from the database.
        if (this.closed && !isFinalJobError(err) && job.attemptsMade < job.policy.attempts) q.jobs.delete(job.id);
        else {
          job.state = 'failed';
          job.failedAt = Date.now();
        }
      } else {
        this.delay(queue, q, job, backoffDelayMs(job.policy, job.attemptsMade));
      }
    }
  }

  /** removeOnFail: failed jobs are kept (and block their id) for `age` seconds, at most `count`. */
  private pruneFailed(q: QueueState): void {
    const now = Date.now();
    const failed: JobRecord[] = [];
    for (const job of q.jobs.values()) {
      if (job.state !== 'failed') continue;
      if (now - (job.failedAt ?? 0) > job.policy.removeOnFail.age * 1000) q.jobs.delete(job.id);
      else failed.push(job);
    }
    const limit = failed[0]?.policy.removeOnFail.count ?? Infinity;
    failed.sort((a, b) => (a.failedAt ?? 0) - (b.failedAt ?? 0));
    for (const job of failed.slice(0, Math.max(0, failed.length - limit))) q.jobs.delete(job.id);
  }
}
