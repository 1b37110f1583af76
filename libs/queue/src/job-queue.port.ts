import type { JobName, JobOptionsPolicy, JobPayload } from '@jam/queue-contracts';

/** A job as a handler sees it. `payload` is untrusted: validate it with `parseJobPayload`. */
export interface ConsumedJob {
  readonly id: string;
  readonly name: JobName;
  readonly payload: unknown;
  /** 1-based: 1 on the first run, 2 on the first retry. */
  readonly attempt: number;
  /**
   * W3C trace-context headers (`traceparent`, `tracestate`) of the span that enqueued the job,
   * kept beside the payload (never in it: payload schemas are strict). Absent for jobs enqueued
   * outside a span, with tracing off, or before drivers carried it.
   */
  readonly traceContext?: Readonly<Record<string, string>>;
  /** When the job became runnable (enqueued, or its delay ended), ms since the epoch; for the queue-wait metric. */
  readonly readyAt?: number;
}

/**
 * Throw it (or `MalformedJobError`) from a handler to fail the job for good; any other error is
 * transient and retried per the queue's job options (docs/architecture.md section 6).
 */
export type JobHandler = (job: ConsumedJob) => Promise<void>;

export interface QueueCounts {
  /** Waiting plus prioritized. */
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  /** Failed jobs still kept (see `removeOnFail`). */
  readonly failed: number;
}

/**
 * The one queue port every app uses; drivers: BullMQ on Redis, BullMQ on PostgreSQL, in-process.
 *
 * Semantics all drivers share (checked by the contract suite in `job-queue.contract.ts`):
 * - `enqueue` with a jobId that still exists (waiting, delayed, active, or failed and kept) is a
 *   no-op. Completed jobs are removed, so the same id can be enqueued again afterwards.
 * - A handler error retries with exponential backoff up to `attempts`; `PermanentJobError` and
 *   `MalformedJobError` fail the job at once.
 * - `close` stops taking jobs, waits for active handlers, then closes connections.
 */
export interface JobQueue {
  /**
   * Driver-level enqueue. Apps call `enqueue(queue, entry, payload)` (enqueue.ts) instead, which
   * takes the queue name and job id from the job catalog. `delayMs`: earliest start, in ms from now. The active OpenTelemetry context (if any) goes
   * with the job and comes back as `ConsumedJob.traceContext`.
   * `priority`: 1..MAX_JOB_PRIORITY (`@jam/queue-contracts`), lower runs first, FIFO among equal
   * priorities; a job without one runs before every prioritized job. A retry keeps it. It is
   * the package's fair-share priority (docs/fairness.md). A duplicate enqueue (same jobId)
   * changes nothing, priority included.
   * @throws RangeError for a priority outside 1..MAX_JOB_PRIORITY (nothing is enqueued)
   */
  enqueue<N extends JobName>(queue: string, name: N, payload: JobPayload<N>, opts: JobEnqueueOptions): Promise<void>;
  /** True while the job is waiting, delayed, active or prioritized. */
  isQueued(queue: string, jobId: string): Promise<boolean>;
  counts(queue: string): Promise<QueueCounts>;
  /**
   * Removes a kept failed job so its id can be enqueued again (the reconciler does this for work
   * the database says is unfinished). No-op unless the job is in the failed state.
   * @returns true if a failed job was removed.
   */
  removeFailed(queue: string, jobId: string): Promise<boolean>;
  /** Starts consuming `queue`; at most one consumer per queue per JobQueue. */
  process(queue: string, handler: JobHandler, opts: { concurrency: number }): void;
  close(): Promise<void>;
}

/** Options of one {@link JobQueue.enqueue}. */
export interface JobEnqueueOptions {
  /** Deterministic job id (`@jam/queue-contracts` job-id.ts): the dedupe key. */
  jobId: string;
  /** Earliest start, ms from now; default 0. */
  delayMs?: number;
  /** 1..MAX_JOB_PRIORITY, lower first; absent = ahead of every prioritized job. */
  priority?: number;
}

/** Options every driver accepts. */
export interface JobQueueDriverOptions {
  /** Infrastructure errors (connection, lock, eviction policy). Default: `console.error`. */
  onError?: (err: Error) => void;
  /**
   * Job options per queue name. Default: `defaultJobOptions` from `@jam/queue-contracts`, which
   * throws for a queue it does not define. Tests pass a short backoff here.
   */
  jobOptions?: (queue: string) => JobOptionsPolicy;
}
