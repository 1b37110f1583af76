import {
  BLOB_HYGIENE_JOB,
  BLOB_HYGIENE_V1,
  JANITOR_QUEUE,
  PREIMAGE_GC_JOB,
  PREIMAGE_GC_V1,
  RECONCILE_JOB,
  RECONCILE_V1,
  RETENTION_JOB,
  RETENTION_V1,
  type JobCatalogEntry,
  type JobName,
  type JobsOnQueue,
} from '@jam/queue-contracts';
import { consume, enqueue, jobDispatcher, type ConsumedJob, type JobHandler } from '@jam/queue';
import type { BlobStore, BlobStoreMaintenance, TieredBlobStore } from '@jam/blob-store';
import type { PreimageRepository } from '@jam/persistence';
import { reconcile, type ReconcileDeps } from './reconcile.processor';
import { runRetention } from './retention.task';
import { runPreimageGc } from './preimage-gc.task';
import { runBlobHygiene } from './blob-hygiene.task';
import { runBlobMigration } from './blob-migrate.task';

/** Everything the janitor's tasks need; built by the janitor role (janitor.role.ts). */
export interface JanitorDeps extends ReconcileDeps {
  preimages: PreimageRepository;
  blobs: BlobStore & BlobStoreMaintenance;
  /** Set in S3 offload mode (`blobs` is then this store): the blob hygiene job also runs the S3 migrator. */
  tiered?: TieredBlobStore;
}

/** Janitor settings. */
export interface JanitorOptions {
  /** ms between reconciler runs */
  intervalMs: number;
  /** ms a package must sit unchanged before its missing job is re-enqueued */
  staleMs: number;
  /**
   * Staleness for the reconcile run at start, ms. 0 in embedded mode, whose in-process queue is
   * empty after a restart; `staleMs` with a durable queue, so replicas booting do not redo work in flight.
   */
  bootStaleMs: number;
  /** `retention_days` */
  retentionDays: number;
  /** ms between retention runs */
  retentionIntervalMs: number;
  /** packages per retention transaction */
  retentionBatchSize: number;
  /** `preimage_gc_grace_hours` */
  preimageGcGraceHours: number;
  /** ms between preimage GC runs */
  preimageGcIntervalMs: number;
  /** ms between blob hygiene runs */
  blobHygieneIntervalMs: number;
  /** blobs re-hashed per hygiene run */
  blobVerifySample: number;
  /** `s3_migrate_batch`: filesystem blobs moved to S3 per hygiene run in offload mode (0 = none). */
  s3MigrateBatch?: number;
}

/** Label of `jam_janitor_runs_total{task}` per janitor job. */
const TASK_OF: Readonly<Partial<Record<JobName, string>>> = {
  [RECONCILE_V1]: 'reconcile',
  [RETENTION_V1]: 'retention',
  [PREIMAGE_GC_V1]: 'preimage-gc',
  [BLOB_HYGIENE_V1]: 'blob-hygiene',
};

/**
 * Schedules the janitor's tasks. Each task has its own interval; a tick enqueues the task's job
 * with a job id derived from the time bucket (`<task>-<bucket>`), so several janitor replicas
 * produce one run per interval; the handler does the work. Storage tasks are also scheduled once
 * at start, so a process restarted more often than their interval still runs them.
 */
export class Janitor {
  private readonly timers: NodeJS.Timeout[] = [];
  /** One handler per janitor job; a janitor job without one does not compile. */
  private readonly handlers = {
    [RECONCILE_V1]: async () => void (await this.runOnce(this.opts.staleMs)),
    [RETENTION_V1]: async () => void (await this.runTask(RETENTION_V1)),
    [PREIMAGE_GC_V1]: async () => void (await this.runTask(PREIMAGE_GC_V1)),
    [BLOB_HYGIENE_V1]: async () => void (await this.runTask(BLOB_HYGIENE_V1)),
  };
  private readonly dispatch: JobHandler = jobDispatcher('janitor', this.handlers);

  constructor(
    private readonly deps: JanitorDeps,
    private readonly opts: JanitorOptions,
  ) {}

  /**
   * Starts consuming the janitor queue and scheduling ticks, after one reconcile run with `bootStaleMs`.
   * @param opts.wrap wraps every janitor job's handler, as every other consumer's (the process's
   *   metrics and CONSUMER span per job, `RoleHost.instrument`); none: the bare handlers
   */
  async start(opts: { wrap?: (handler: JobHandler) => JobHandler } = {}): Promise<void> {
    consume(this.deps.queue, JANITOR_QUEUE, this.handlers, { concurrency: 1, wrap: opts.wrap });
    await this.runOnce(this.opts.bootStaleMs);
    const schedule: [JobCatalogEntry<JobsOnQueue<'janitor'>>, number][] = [
      [RECONCILE_JOB, this.opts.intervalMs],
      [RETENTION_JOB, this.opts.retentionIntervalMs],
      [PREIMAGE_GC_JOB, this.opts.preimageGcIntervalMs],
      [BLOB_HYGIENE_JOB, this.opts.blobHygieneIntervalMs],
    ];
    for (const [job, intervalMs] of schedule) {
      const timer = setInterval(() => void this.tick(job, intervalMs), intervalMs);
      timer.unref();
      this.timers.push(timer);
      if (job !== RECONCILE_JOB) void this.tick(job, intervalMs);
    }
  }

  /** Runs one janitor job. @throws MalformedJobError for an unknown name or payload; whatever the task throws (the job retries). */
  async handle(job: ConsumedJob): Promise<void> {
    await this.dispatch(job);
  }

  /** One reconcile pass; failures are counted, logged and rethrown so the job retries. */
  async runOnce(staleMs: number): Promise<number> {
    return this.counted(RECONCILE_V1, () => reconcile(this.deps, staleMs));
  }

  /** One run of a storage task, counted in `jam_janitor_runs_total`; failures are rethrown so the job retries. */
  async runTask(name: typeof RETENTION_V1 | typeof PREIMAGE_GC_V1 | typeof BLOB_HYGIENE_V1): Promise<unknown> {
    const o = this.opts;
    switch (name) {
      case RETENTION_V1:
        return this.counted(name, () => runRetention(this.deps, { retentionDays: o.retentionDays, batchSize: o.retentionBatchSize }));
      case PREIMAGE_GC_V1:
        return this.counted(name, () => runPreimageGc(this.deps, { graceHours: o.preimageGcGraceHours }));
      case BLOB_HYGIENE_V1:
        return this.counted(name, async () => {
          const hygiene = await runBlobHygiene(this.deps, { graceHours: o.preimageGcGraceHours, verifySample: o.blobVerifySample });
          const tiered = this.deps.tiered;
          if (tiered === undefined || !o.s3MigrateBatch) return hygiene;
          return { ...hygiene, migration: await runBlobMigration({ ...this.deps, tiered }, { limit: o.s3MigrateBatch }) };
        });
    }
  }

  private async counted<T>(name: JobName, run: () => Promise<T>): Promise<T> {
    const task = TASK_OF[name] ?? name;
    try {
      const result = await run();
      this.deps.metrics.janitorRuns.inc({ task, outcome: 'ok' });
      return result;
    } catch (err) {
      this.deps.metrics.janitorRuns.inc({ task, outcome: 'error' });
      this.deps.logger.error({ err, task }, 'janitor task failed');
      throw err;
    }
  }

  private async tick(job: JobCatalogEntry<JobsOnQueue<'janitor'>>, intervalMs: number): Promise<void> {
    const bucket = Math.floor(Date.now() / intervalMs);
    try {
      await enqueue(this.deps.queue, job, {}, { bucket });
    } catch (err) {
      this.deps.logger.error({ err, task: TASK_OF[job.name] }, 'could not schedule janitor task');
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }
}
