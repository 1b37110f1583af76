import { jobLocation, type JobCatalogEntry, type JobIdKey, type JobLocation, type JobName, type JobPayload, type JobQueueKinds } from '@jam/queue-contracts';
import type { JobQueue } from './job-queue.port';

/**
 * Options of {@link enqueue}: `delayMs` = earliest start, ms from now; janitor tasks also need the
 * schedule `bucket` their job id is built from (see `JobIdKey`). Package jobs take the package's
 * fair-share `priority` (1..MAX_JOB_PRIORITY, lower first; docs/fairness.md).
 */
export type EnqueueOptions<N extends JobName> = JobQueueKinds[N] extends 'janitor'
  ? [opts: { readonly bucket: number; readonly delayMs?: number }]
  : [opts?: { readonly delayMs?: number; readonly priority?: number }];

/**
 * The one way to enqueue a job: the catalog entry decides the queue, the deterministic job id
 * and (through the driver) the retry policy; the payload type follows from the job name, so a
 * payload of another job is a compile error. A job whose id still exists is not enqueued again
 * (see `JobQueue.enqueue`).
 *
 * @returns where the job is (queue name and job id).
 * @throws RangeError on a non-canonical hash or attester index in the payload, or a priority out
 *   of range (nothing enqueued);
 *   whatever the driver throws (Redis down, queue closed).
 */
export async function enqueue<N extends JobName>(
  queue: JobQueue,
  entry: JobCatalogEntry<N>,
  payload: JobPayload<N>,
  ...opts: EnqueueOptions<N>
): Promise<JobLocation> {
  const o = opts[0] as { bucket?: number; delayMs?: number; priority?: number } | undefined;
  const key = (o?.bucket === undefined ? [] : [{ bucket: o.bucket }]) as JobIdKey<N>;
  const where = jobLocation(entry, payload, ...key);
  await queue.enqueue(where.queue, entry.name, payload, {
    jobId: where.jobId,
    ...(o?.delayMs !== undefined ? { delayMs: o.delayMs } : {}),
    ...(o?.priority !== undefined ? { priority: o.priority } : {}),
  });
  return where;
}
