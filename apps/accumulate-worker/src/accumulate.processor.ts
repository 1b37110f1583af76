import {
  ACCUMULATE_PHASE_STATUSES,
  PACKAGE_TRANSITIONS as T,
  decodeWorkReport,
  isFinishedPackageStatus,
  toHex,
  type PackageFailureCode,
  type WorkDigest,
} from '@jam/domain';
import { parseJobPayload, ACCUMULATE_REPORT_V1 } from '@jam/queue-contracts';
import { PermanentJobError, type ConsumedJob } from '@jam/queue';
import { BlobCache, BlobUnavailableError, type BlobStore } from '@jam/blob-store';
import {
  detectCodeFormat,
  MAX_GAS_LIMIT,
  MAX_STORAGE_SNAPSHOT_BYTES,
  MAX_STORAGE_SNAPSHOT_ITEMS,
  sandboxFailureKind,
  type SandboxPool,
  type StorageQuota,
} from '@jam/sandbox';
import type {
  AccumulationRepository,
  AccumulationStatus,
  GpStateRepository,
  ServiceRepository,
  WorkPackageRepository,
  WorkReportRepository,
} from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';
import { ServiceTurns } from './service-turns';
import { accumulatePvmServices, type PvmService } from './pvm-accumulate';
import type { GpAccumulator } from './gp-accumulator';

/** What the accumulate processor needs; built by the accumulate-worker role (accumulate-worker.role.ts). */
export interface AccumulateDeps {
  workPackages: WorkPackageRepository;
  workReports: WorkReportRepository;
  services: ServiceRepository;
  accumulations: AccumulationRepository;
  blobs: BlobStore;
  /** Service code by code hash in front of `blobs` (immutable by hash); default: a {@link BlobCache} of its default size. */
  codeCache?: BlobCache;
  sandbox: SandboxPool;
  /**
   * The GP accumulate path of PVM services (gp-accumulator.ts, pvm-accumulate.ts) and the state it
   * keeps; absent: PVM services run the one-account job of the sandbox (accumulate-job.ts).
   */
  gp?: { accumulator: GpAccumulator; state: GpStateRepository };
  metrics: JamMetrics;
  logger: Logger;
  /** Footprint caps of every service's storage (`max_service_storage_bytes` / `_items`), given to each job. */
  storageQuota: StorageQuota;
  /** Wall-clock kills one (report, service) may have before it is recorded `timed_out` (`max_accumulate_timeouts`, >= 1). */
  maxAccumulateTimeouts: number;
  /**
   * Executor crashes / engine faults one (report, service) may have before it is recorded
   * `sandbox_failed`, and failures to read its code from the blob store before it is recorded
   * `blob_unavailable` (`max_sandbox_failures`, >= 1; each kind counted apart).
   */
  maxSandboxFailures: number;
}

/** Accumulation statuses that fail the package (host verdicts, not guest outcomes), with its error code. */
const FAILING: Partial<Record<AccumulationStatus, { code: PackageFailureCode; message: string }>> = {
  timed_out: { code: 'accumulate_timeout', message: 'accumulate was killed by the sandbox wall clock on every try (max_accumulate_timeouts)' },
  storage_over_limit: {
    code: 'storage_over_limit',
    message:
      'the service storage (for a PVM service: the GP state of its tenant) is larger than a sandbox executor can be given, or its GP accumulation named a service id of another tenant; nothing was written',
  },
  sandbox_failed: {
    code: 'accumulate_sandbox_failure',
    message: 'the sandbox executor crashed or reported an engine fault on every try (max_sandbox_failures)',
  },
  blob_unavailable: {
    code: 'accumulate_blob_unavailable',
    message: 'the service code could not be read from the blob store on every try (max_sandbox_failures); accumulate was not run',
  },
};

/** Log message of a counted failure below its bound, by kind. */
const RETRY_WORDS = {
  wall_clock: 'accumulate hit the sandbox wall clock; retrying',
  executor: 'sandbox executor failed during accumulate (not a guest result); retrying',
  blob: 'service code could not be read from the blob store (not a guest result); retrying',
} as const;

/** The sandbox wall clock killed `accumulate`: not a deterministic result, so the transaction is rolled back. */
class AccumulateWallClockError extends Error {
  override name = 'AccumulateWallClockError';
  constructor(
    readonly serviceId: number,
    /** gas the pool charged for the killed run (the clamped limit) */
    readonly gasUsed: bigint,
  ) {
    super(`accumulate of service ${serviceId} hit the sandbox wall-clock limit`);
  }
}

/**
 * Applies one attested report (docs/architecture.md section 6): for each service with digests in the report,
 * runs its `accumulate` with those digests as operands and commits the storage writes in one
 * transaction per (report, service), exactly once (unique accumulation row) and one report at a
 * time per service (row lock). Then marks the package `accumulated`.
 *
 * A guest that panics or runs out of gas commits no writes but still counts as applied (the
 * outcome is deterministic); database errors are transient and retried (uncounted). A wall-clock kill is
 * not deterministic: it rolls back and retries, but is counted in the database, and the
 * `maxAccumulateTimeouts`-th kill of one (report, service) records it as `timed_out`. A service
 * whose stored state exceeds what an executor can be given is recorded `storage_over_limit`
 * without running. An executor that crashes, is killed or reports an engine fault during the run
 * (`SandboxExecutorError`) is not a guest result either: counted the same way, separately, the
 * `maxSandboxFailures`-th records `sandbox_failed`. The service's code missing from the blob store,
 * corrupted or unreadable (S3 or I/O error) is the store's state, not the report's: never a reason
 * to skip the digests; counted the same way (`blob_failures`), the `maxSandboxFailures`-th records
 * `blob_unavailable` without running. Each fails the package (`accumulate_timeout` /
 * `storage_over_limit` / `accumulate_sandbox_failure` / `accumulate_blob_unavailable`) once every
 * service of the report has its accumulation row; the other services still apply.
 */
export class AccumulateProcessor {
  private readonly code: BlobCache;
  /** Jobs of one service in this process take turns: they would only race on its state version. */
  private readonly turns = new ServiceTurns();

  constructor(private readonly deps: AccumulateDeps) {
    this.code = deps.codeCache ?? new BlobCache(deps.blobs);
  }

  async handle(job: ConsumedJob): Promise<void> {
    const { report_hash: reportHash, package_hash: packageHash } = parseJobPayload(ACCUMULATE_REPORT_V1, job.payload);
    const { deps } = this;
    const row = await deps.workPackages.get(packageHash);
    if (!row) throw new PermanentJobError(`unknown package ${packageHash}`);
    if (isFinishedPackageStatus(row.status)) return;
    if (row.reportHash !== reportHash || !(ACCUMULATE_PHASE_STATUSES as readonly string[]).includes(row.status)) {
      throw new PermanentJobError(`package ${packageHash} is ${row.status} with report ${row.reportHash ?? 'none'}; refusing to accumulate ${reportHash}`);
    }
    const stored = await deps.workReports.get(reportHash);
    if (!stored) throw new PermanentJobError(`report ${reportHash} is not stored`);
    // only when the row read above can still move: a redelivered job finds it `accumulating` already
    if ((T.startAccumulate.from as readonly string[]).includes(row.status))
      await deps.workPackages.transition(packageHash, T.startAccumulate.from, T.startAccumulate.to);
    const report = decodeWorkReport(stored.encoded);

    const byService = new Map<number, WorkDigest[]>();
    for (const digest of report.results) {
      const list = byService.get(digest.service_id) ?? [];
      list.push(digest);
      byService.set(digest.service_id, list);
    }
    const failures: { serviceId: number; status: AccumulationStatus }[] = [];
    const pvm: PvmService[] = [];
    for (const serviceId of [...byService.keys()].sort((a, b) => a - b)) {
      const status = await this.accumulateService(reportHash, packageHash, serviceId, byService.get(serviceId)!, row.queuePriority, pvm);
      if (status !== undefined && FAILING[status] !== undefined) failures.push({ serviceId, status });
    }
    if (pvm.length > 0 && deps.gp !== undefined) {
      const ctx = { ...deps, gp: deps.gp };
      for (const f of await accumulatePvmServices(ctx, { report, reportHash, packageHash, services: pvm, priority: row.queuePriority }))
        if (FAILING[f.status] !== undefined) failures.push(f);
    }
    const first = failures[0];
    if (first !== undefined) {
      const errorMessage = failures.map((f) => `service ${f.serviceId}: ${FAILING[f.status]!.message}`).join('; ');
      if (
        await deps.workPackages.transition(packageHash, T.failAccumulate.from, T.failAccumulate.to, { errorCode: FAILING[first.status]!.code, errorMessage })
      ) {
        deps.metrics.packages.inc({ status: 'failed' });
        deps.logger.error({ packageHash, reportHash, failures }, 'package failed in accumulate');
      }
      return;
    }
    if (await deps.workPackages.transition(packageHash, T.finishAccumulate.from, T.finishAccumulate.to)) {
      deps.metrics.packages.inc({ status: 'accumulated' });
      deps.metrics.packageAccumulateLatency.observe(Math.max(0, Date.now() - row.createdAt.getTime()) / 1000);
    }
  }

  /**
   * Accumulates the report's digests of one service, exactly once.
   * @param priority the package's fair-share priority, which orders the call in the executor pool's queue
   * @param pvm a PVM service is appended here instead of run when `deps.gp` is set (the GP path runs them together)
   * @returns the recorded accumulation status, or undefined when the service row is gone (skipped) or left to the GP path
   * @throws AccumulateWallClockError / SandboxExecutorError / BlobUnavailableError below their bound (retry); transient errors
   */
  private async accumulateService(
    reportHash: string,
    packageHash: string,
    serviceId: number,
    digests: WorkDigest[],
    priority: number,
    pvm: PvmService[],
  ): Promise<AccumulationStatus | undefined> {
    const { deps } = this;
    const service = await deps.services.get(serviceId);
    if (!service) {
      deps.logger.warn({ serviceId, reportHash }, 'service gone; skipping its digests');
      return undefined;
    }
    const gasLimit = digests.reduce((g, d) => g + d.accumulate_gas, 0n);
    const quota = deps.storageQuota;
    try {
      // The service row names this code: a blob the store cannot give is retried and counted, never skipped.
      const code = await this.code.read(service.codeHash, `code of service ${serviceId}`);
      if (deps.gp !== undefined && detectCodeFormat(code) === 'jam-pvm') {
        pvm.push({ serviceId, owner: service.owner, code, codeHash: service.codeHash, minItemGas: service.minItemGas, minMemoGas: service.minMemoGas });
        return undefined;
      }
      const apply: Parameters<AccumulationRepository['applyOnce']>[0] = {
        reportHash,
        packageHash,
        serviceId,
        // never read out more than an executor can be given (the quota settings cannot exceed it)
        loadLimit: { bytes: MAX_STORAGE_SNAPSHOT_BYTES, items: MAX_STORAGE_SNAPSHOT_ITEMS },
        run: async ({ footprint, storage }) => {
          if (storage === null) {
            // Legacy state from before the quota: running it would crash the executor on every try.
            deps.metrics.storageOverQuota.inc({ action: 'refused' });
            deps.logger.error(
              { reportHash, serviceId, footprint, quota },
              'service storage is larger than a sandbox executor can be given; recorded storage_over_limit without running',
            );
            return { status: 'storage_over_limit', gasUsed: 0n, writes: [] };
          }
          if (footprint.bytes > quota.maxBytes || footprint.items > quota.maxItems) {
            // Still run it: only writes that do not grow the storage succeed, so it can delete.
            deps.metrics.storageOverQuota.inc({ action: 'ran' });
            deps.logger.warn({ reportHash, serviceId, footprint, quota }, 'service storage is over its quota; accumulating with shrinking writes only');
          }
          const outcome = await deps.sandbox.accumulate(
            {
              codeHash: service.codeHash,
              code,
              serviceId,
              gasLimit,
              operands: digests.map((d) => ({ packageHash, payloadHash: toHex(d.payload_hash), result: d.result })),
              storage,
              storageQuota: quota,
            },
            { priority },
          );
          // A wall-clock kill is not deterministic: roll back and retry rather than record it.
          if (outcome.timedOut) throw new AccumulateWallClockError(serviceId, outcome.gasUsed);
          deps.metrics.gasUsed.inc({ phase: 'accumulate' }, Number(outcome.gasUsed));
          if (outcome.status !== 'ok') deps.metrics.sandboxTraps.inc({ phase: 'accumulate', result: outcome.status });
          return { status: outcome.status, gasUsed: outcome.gasUsed, writes: outcome.status === 'ok' ? outcome.writes : [] };
        },
      };
      // in this service's turn: jobs of one service in this process would only race on its state version
      const result = await this.turns.run(serviceId, () => deps.accumulations.applyOnce(apply));
      deps.logger.info({ reportHash, serviceId, applied: result.applied, status: result.status }, 'accumulate');
      return result.status;
    } catch (err) {
      const kind = err instanceof AccumulateWallClockError ? 'wall_clock' : BlobUnavailableError.is(err) ? 'blob' : sandboxFailureKind(err);
      if (kind === undefined) throw err;
      const wallClock = kind === 'wall_clock';
      const maxFailures = wallClock ? deps.maxAccumulateTimeouts : deps.maxSandboxFailures;
      // a crashed run may have used anything up to its limit: charged like a wall-clock kill; code that never loaded never ran
      const gasUsed = err instanceof AccumulateWallClockError ? err.gasUsed : kind === 'blob' ? 0n : gasLimit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : gasLimit;
      const error = (err as Error).message;
      // Counted in its own transaction: the attempt's transaction is gone, and workers crash.
      const counted = await deps.accumulations.recordSandboxFailure({ reportHash, packageHash, serviceId, kind, maxFailures, gasUsed, error });
      if (!counted.final) {
        if (wallClock) deps.metrics.accumulateTimeouts.inc({ outcome: 'retry' });
        deps.metrics.sandboxFailures.inc({ phase: 'accumulate', kind, outcome: 'retry' });
        const setting = wallClock ? 'max_accumulate_timeouts' : 'max_sandbox_failures';
        deps.logger.warn({ reportHash, serviceId, kind, error, failures: counted.failures, max: maxFailures, setting }, RETRY_WORDS[kind]);
        throw err;
      }
      if (counted.applied) {
        deps.metrics.sandboxFailures.inc({ phase: 'accumulate', kind, outcome: 'final' });
        deps.metrics.sandboxTraps.inc({ phase: 'accumulate', result: counted.status ?? kind });
        if (wallClock) {
          deps.metrics.accumulateTimeouts.inc({ outcome: 'final' });
          deps.logger.error(
            { reportHash, serviceId, failures: counted.failures },
            'accumulate hit the sandbox wall clock max_accumulate_timeouts times; recorded timed_out',
          );
        } else if (kind === 'blob') {
          deps.logger.error(
            { reportHash, serviceId, error, failures: counted.failures },
            'service code could not be read from the blob store max_sandbox_failures times; recorded blob_unavailable',
          );
        } else {
          deps.logger.error(
            { reportHash, serviceId, error, failures: counted.failures },
            'sandbox executor failed during accumulate max_sandbox_failures times; recorded sandbox_failed',
          );
        }
      }
      return counted.status;
    }
  }
}
