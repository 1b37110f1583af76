import { queueKind, type QueueKind } from './queue-names.constants';

/**
 * Driver-neutral job options; the shape is BullMQ's `JobsOptions` subset so the BullMQ driver
 * passes it through unchanged and the in-process driver implements the same semantics.
 */
export interface JobOptionsPolicy {
  /** Total tries including the first run. */
  readonly attempts: number;
  /** Retry n (1-based) waits `delay * 2^(n-1)` ms. */
  readonly backoff: { readonly type: 'exponential'; readonly delay: number };
  /**
   * Always `true`: a completed job leaves the queue, so the reconciler can enqueue the same
   * deterministic id again later (a kept completed job would swallow that enqueue as duplicate).
   */
  readonly removeOnComplete: true;
  /** Failed jobs are kept for inspection: `age` in seconds, at most `count` of them. */
  readonly removeOnFail: { readonly age: number; readonly count: number };
}

const WEEK_S = 7 * 24 * 3600;

/**
 * Defaults per queue kind. Transient failures (DB, Redis, S3, timeouts) retry with backoff;
 * deterministic ones are thrown as final errors and never use these attempts (docs/architecture.md section 6).
 */
export const DEFAULT_JOB_OPTIONS: Readonly<Record<QueueKind, JobOptionsPolicy>> = Object.freeze({
  // Refine runs guest code in the sandbox pool: few, spaced retries.
  refine: { attempts: 5, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: true, removeOnFail: { age: WEEK_S, count: 10_000 } },
  // Cheap (one signature check + upsert): retry quickly and often.
  attestation: { attempts: 8, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: { age: WEEK_S, count: 10_000 } },
  // Accumulate must eventually run for every attested report: the most attempts.
  accumulate: { attempts: 10, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: true, removeOnFail: { age: WEEK_S, count: 10_000 } },
  // Scheduled again anyway; a few retries are enough.
  janitor: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: true, removeOnFail: { age: WEEK_S, count: 1_000 } },
});

/** Options for a queue name. @throws RangeError for a queue this contract does not define. */
export function defaultJobOptions(queue: string): JobOptionsPolicy {
  const kind = queueKind(queue);
  if (kind === undefined) throw new RangeError(`unknown queue ${JSON.stringify(queue)}`);
  return DEFAULT_JOB_OPTIONS[kind];
}

/** Delay in ms before retry number `retry` (1-based), exponential as in BullMQ. */
export function backoffDelayMs(policy: JobOptionsPolicy, retry: number): number {
  return Math.round(policy.backoff.delay * 2 ** Math.max(0, retry - 1));
}
