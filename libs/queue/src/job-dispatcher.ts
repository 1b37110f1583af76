import {
  JOB_CATALOG,
  MalformedJobError,
  isJobName,
  parseJobPayload,
  queueKind,
  type JobName,
  type JobPayload,
  type JobsOnQueue,
  type QueueKind,
  type QueueKindOf,
} from '@jam/queue-contracts';
import type { ConsumedJob, JobHandler, JobQueue } from './job-queue.port';

/** Handler of one job name; `payload` has already passed the job's schema. */
export type TypedJobHandler<N extends JobName> = (job: ConsumedJob, payload: JobPayload<N>) => Promise<void>;

/**
 * One handler per job name that runs on queues of kind `K`. A job of that queue without a
 * handler is a compile error (the map type requires every key), not a run-time surprise.
 */
export type JobHandlerMap<K extends QueueKind> = { readonly [N in JobsOnQueue<K>]: TypedJobHandler<N> };

/**
 * A `JobHandler` for queues of kind `kind` that validates each job against the catalog and calls
 * the handler of its name with the parsed payload.
 * @throws MalformedJobError (final, never retried) for a job name that does not run on this kind
 *   of queue or a payload that fails its schema; whatever the handler throws.
 */
export function jobDispatcher<K extends QueueKind>(kind: K, handlers: JobHandlerMap<K>): JobHandler {
  const table = handlers as unknown as Readonly<Record<string, TypedJobHandler<JobName>>>;
  return async (job) => {
    if (!isJobName(job.name) || JOB_CATALOG[job.name].kind !== kind) {
      throw new MalformedJobError(job.name, [], `job ${job.name} does not run on ${kind} queues`);
    }
    const handler = table[job.name];
    if (handler === undefined) throw new MalformedJobError(job.name, [], `no handler for ${job.name}`);
    await handler(job, parseJobPayload(job.name, job.payload));
  };
}

/** Options of {@link consume}. */
export interface ConsumeOptions {
  /** Jobs in flight at once on this queue in this process. */
  readonly concurrency: number;
  /** Wraps the dispatcher (metrics, a CONSUMER span per job); identity when absent. */
  readonly wrap?: (handler: JobHandler) => JobHandler;
}

/**
 * Starts consuming `queueName` with one handler per job name that runs on it (the kind follows
 * from the name's type: `refine-a${number}` needs a `refine-package.v1` handler, `janitor` the
 * four janitor tasks). @throws RangeError for a queue name the contracts do not define.
 */
export function consume<Q extends string>(queue: JobQueue, queueName: Q, handlers: JobHandlerMap<QueueKindOf<Q>>, opts: ConsumeOptions): void {
  const kind = queueKind(queueName);
  if (kind === undefined) throw new RangeError(`unknown queue ${JSON.stringify(queueName)}`);
  const dispatch = jobDispatcher(kind as QueueKindOf<Q>, handlers);
  queue.process(queueName, opts.wrap ? opts.wrap(dispatch) : dispatch, { concurrency: opts.concurrency });
}
