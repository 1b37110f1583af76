import type { z } from 'zod';
import { DEFAULT_JOB_OPTIONS, type JobOptionsPolicy } from './default-job-options';
import { accumulateJobId, attestationJobId, janitorTaskJobId, refineJobId } from './job-id';
import {
  ACCUMULATE_REPORT_V1,
  BLOB_HYGIENE_V1,
  PREIMAGE_GC_V1,
  RECONCILE_V1,
  REFINE_PACKAGE_V1,
  RETENTION_V1,
  VERIFY_ATTESTATION_V1,
} from './job-names.constants';
import { JOB_PAYLOAD_SCHEMAS } from './job-payload.schema';
import type { JobName, JobPayload } from './job.types';
import { ACCUMULATE_QUEUE, ATTESTATION_QUEUE, JANITOR_QUEUE, refineExpressQueueName, refineQueueName, type QueueKind } from './queue-names.constants';

/**
 * The queue kind every job name runs on, as a type: the one place a job is tied to its queue.
 * `JobCatalog` below must agree (its `kind` fields are typed by this map), and
 * {@link JobsOnQueue} derives from it which handlers a consumer of a queue must register.
 */
export interface JobQueueKinds {
  [REFINE_PACKAGE_V1]: 'refine';
  [VERIFY_ATTESTATION_V1]: 'attestation';
  [ACCUMULATE_REPORT_V1]: 'accumulate';
  [RECONCILE_V1]: 'janitor';
  [RETENTION_V1]: 'janitor';
  [PREIMAGE_GC_V1]: 'janitor';
  [BLOB_HYGIENE_V1]: 'janitor';
}

/** The job names that run on queues of kind `K` (e.g. `JobsOnQueue<'janitor'>` = the four janitor tasks). */
export type JobsOnQueue<K extends QueueKind> = { [N in JobName]: JobQueueKinds[N] extends K ? N : never }[JobName];

/** Kind of a queue name as a type: `refine-a${number}` -> `'refine'`, `'attestation'` -> `'attestation'`, ... */
export type QueueKindOf<Q extends string> = Q extends `refine-a${number}` | `refine-express-a${number}`
  ? 'refine'
  : Q extends typeof ATTESTATION_QUEUE
    ? 'attestation'
    : Q extends typeof ACCUMULATE_QUEUE
      ? 'accumulate'
      : Q extends typeof JANITOR_QUEUE
        ? 'janitor'
        : never;

/**
 * What a job id is built from besides the payload: janitor tasks carry an empty payload and are
 * deduplicated per schedule bucket (`floor(now_ms / interval_ms)`), so several janitor replicas
 * produce one run per interval; pipeline jobs are identified by their payload alone.
 */
export type JobIdKey<N extends JobName> = JobQueueKinds[N] extends 'janitor' ? [key: { readonly bucket: number }] : [];

/**
 * One row of the job catalog: everything a producer or a consumer needs to know about a job.
 *
 * WARNING: `name`, the queue `queue()` returns and the id `jobId()` builds are persisted with every
 * queued job (Redis keys / BullMQ rows). They must stay byte-identical to what older processes
 * produce: a changed queue strands queued jobs, a changed id makes the reconciler see queued work
 * as missing and lets duplicates of in-flight work through.
 */
export interface JobCatalogEntry<N extends JobName> {
  /** Versioned job name (`refine-package.v1`). */
  readonly name: N;
  /** Kind of the queue the job runs on; picks the retry policy and the consumer. */
  readonly kind: JobQueueKinds[N];
  /** Strict zod schema of the payload; a consumed payload failing it is a final `MalformedJobError`. */
  readonly schema: z.ZodType<JobPayload<N>>;
  /** The queue name for this payload (refine: the attester's own queue `refine-a<index>`). */
  queue(payload: JobPayload<N>): string;
  /**
   * The deterministic job id for this payload (see `job-id.ts`): the same work always gets the
   * same id, so a duplicate enqueue collapses. @throws RangeError on a non-canonical hash or index.
   */
  jobId(payload: JobPayload<N>, ...key: JobIdKey<N>): string;
  /** Attempts and backoff of the job's queue (`DEFAULT_JOB_OPTIONS[kind]`); drivers apply it per queue. */
  readonly retry: JobOptionsPolicy;
}

/** Entry of a janitor task: empty payload, id `<task>-<bucket>`. */
function janitorTask<N extends JobsOnQueue<'janitor'>>(name: N, task: string): JobCatalogEntry<N> {
  return {
    name,
    kind: 'janitor' as JobQueueKinds[N],
    schema: JOB_PAYLOAD_SCHEMAS[name] as unknown as z.ZodType<JobPayload<N>>,
    queue: () => JANITOR_QUEUE,
    jobId: (_payload, ...key) => janitorTaskJobId(task, (key as [{ readonly bucket: number }])[0].bucket),
    retry: DEFAULT_JOB_OPTIONS.janitor,
  };
}

/**
 * `refine-package.v1` on `refine-a<attester_index>`, id `refine-<package_hash>-a<attester_index>`:
 * the refine job of a package declaring more than {@link EXPRESS_REFINE_GAS} of refine gas (short
 * packages use {@link REFINE_PACKAGE_EXPRESS_JOB}; pick with {@link refinePackageJobFor}).
 */
export const REFINE_PACKAGE_JOB: JobCatalogEntry<typeof REFINE_PACKAGE_V1> = {
  name: REFINE_PACKAGE_V1,
  kind: 'refine',
  schema: JOB_PAYLOAD_SCHEMAS[REFINE_PACKAGE_V1],
  queue: (p) => refineQueueName(p.attester_index),
  jobId: (p) => refineJobId(p.package_hash, p.attester_index),
  retry: DEFAULT_JOB_OPTIONS.refine,
};

/**
 * Declared refine gas (gas, the sum of a package's items' `refine_gas_limit`) up to which a
 * package is short and its refine jobs go to the attester's express queue: G_A = 10,000,000
 * (GP 0.7.2 `G_A`, `GP_ACCUMULATE_GAS`), the express executors' bound too (`SHORT_CALL_GAS` in
 * @jam/sandbox), about 8 ms of guest time. Every call of such a package fits an express executor.
 */
export const EXPRESS_REFINE_GAS = 10_000_000n;

/**
 * `refine-package.v1` of a short package on `refine-express-a<attester_index>`: the same job
 * name, payload, id and retry policy as {@link REFINE_PACKAGE_JOB}, another queue. Which of the
 * two a package uses follows from its declared refine gas ({@link refinePackageJobFor}), which never
 * changes, so every producer (gateway, retry, reconciler) picks the same queue for a package.
 */
export const REFINE_PACKAGE_EXPRESS_JOB: JobCatalogEntry<typeof REFINE_PACKAGE_V1> = {
  ...REFINE_PACKAGE_JOB,
  queue: (p) => refineExpressQueueName(p.attester_index),
};

/**
 * The refine job entry of a package: {@link REFINE_PACKAGE_EXPRESS_JOB} when its declared refine
 * gas is at most {@link EXPRESS_REFINE_GAS}, else {@link REFINE_PACKAGE_JOB} (docs/fairness.md).
 * @param declaredRefineGas the package's `work_package.refine_gas` (gas, >= 0)
 */
export function refinePackageJobFor(declaredRefineGas: bigint): JobCatalogEntry<typeof REFINE_PACKAGE_V1> {
  return declaredRefineGas <= EXPRESS_REFINE_GAS ? REFINE_PACKAGE_EXPRESS_JOB : REFINE_PACKAGE_JOB;
}

/** `verify-attestation.v1` on `attestation`, id `attest-<report_hash>-a<attester_index>`. */
export const VERIFY_ATTESTATION_JOB: JobCatalogEntry<typeof VERIFY_ATTESTATION_V1> = {
  name: VERIFY_ATTESTATION_V1,
  kind: 'attestation',
  schema: JOB_PAYLOAD_SCHEMAS[VERIFY_ATTESTATION_V1],
  queue: () => ATTESTATION_QUEUE,
  jobId: (p) => attestationJobId(p.report_hash, p.attester_index),
  retry: DEFAULT_JOB_OPTIONS.attestation,
};

/** `accumulate-report.v1` on `accumulate`, id `accumulate-<report_hash>`. */
export const ACCUMULATE_REPORT_JOB: JobCatalogEntry<typeof ACCUMULATE_REPORT_V1> = {
  name: ACCUMULATE_REPORT_V1,
  kind: 'accumulate',
  schema: JOB_PAYLOAD_SCHEMAS[ACCUMULATE_REPORT_V1],
  queue: () => ACCUMULATE_QUEUE,
  jobId: (p) => accumulateJobId(p.report_hash),
  retry: DEFAULT_JOB_OPTIONS.accumulate,
};

/** Janitor: `reconcile.v1`, id `reconcile-<bucket>`. */
export const RECONCILE_JOB = janitorTask(RECONCILE_V1, 'reconcile');
/** Janitor: `retention.v1`, id `retention-<bucket>`. */
export const RETENTION_JOB = janitorTask(RETENTION_V1, 'retention');
/** Janitor: `preimage-gc.v1`, id `preimage-gc-<bucket>`. */
export const PREIMAGE_GC_JOB = janitorTask(PREIMAGE_GC_V1, 'preimage-gc');
/** Janitor: `blob-hygiene.v1`, id `blob-hygiene-<bucket>`. */
export const BLOB_HYGIENE_JOB = janitorTask(BLOB_HYGIENE_V1, 'blob-hygiene');

/** Job name -> catalog entry. A job name without an entry is a compile error here. */
export type JobCatalog = { readonly [N in JobName]: JobCatalogEntry<N> };

/** The job catalog (Trigger.dev style): one table binds each job to its queue, schema, id and retry policy. */
export const JOB_CATALOG: JobCatalog = Object.freeze({
  [REFINE_PACKAGE_V1]: REFINE_PACKAGE_JOB,
  [VERIFY_ATTESTATION_V1]: VERIFY_ATTESTATION_JOB,
  [ACCUMULATE_REPORT_V1]: ACCUMULATE_REPORT_JOB,
  [RECONCILE_V1]: RECONCILE_JOB,
  [RETENTION_V1]: RETENTION_JOB,
  [PREIMAGE_GC_V1]: PREIMAGE_GC_JOB,
  [BLOB_HYGIENE_V1]: BLOB_HYGIENE_JOB,
});

/** Where one job lives: its queue name and deterministic id (for `isQueued` / `removeFailed`). */
export interface JobLocation {
  readonly queue: string;
  readonly jobId: string;
}

/**
 * Queue and id of a job from its catalog entry and payload (and, for janitor tasks, its bucket).
 * @throws RangeError on a non-canonical hash or attester index in the payload.
 */
export function jobLocation<N extends JobName>(entry: JobCatalogEntry<N>, payload: JobPayload<N>, ...key: JobIdKey<N>): JobLocation {
  return { queue: entry.queue(payload), jobId: entry.jobId(payload, ...key) };
}
