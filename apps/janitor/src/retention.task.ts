import type { WorkPackageRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the retention task needs. */
export interface RetentionDeps {
  workPackages: WorkPackageRepository;
  metrics: JamMetrics;
  logger: Logger;
}

/** Settings of the retention task. */
export interface RetentionOptions {
  /** `retention_days`: days a finished package is kept after its last status change. */
  retentionDays: number;
  /** Packages per delete transaction (`retention_batch_size`). */
  batchSize: number;
}

/** Transactions per run: a backlog larger than `batchSize * MAX_BATCHES` drains over several runs. */
export const RETENTION_MAX_BATCHES = 20;

const DAY_MS = 86_400_000;

/** Rows deleted by one retention run. */
export interface RetentionResult {
  packages: number;
  reports: number;
  attestations: number;
  accumulations: number;
}

/**
 * Retention (threat model "Storage Bloat", docs/architecture.md section 9): deletes finished packages
 * (`accumulated`, `failed`) older than `retention_days` with their reports, attestations and
 * accumulation rows, in batches of `batchSize` packages, one short transaction each, at most
 * {@link RETENTION_MAX_BATCHES} per run. Kept: service storage (state, not history), every
 * in-flight package, and `disputed` packages (until an admin resolves them; the resolution moves
 * them to a finished status and they age out from then). Deleting a package releases its
 * extrinsic preimage references, so the preimage GC can collect them afterwards.
 * Each batch is counted in `jam_janitor_deleted_total{task="retention"}` as it commits.
 */
export async function runRetention(deps: RetentionDeps, opts: RetentionOptions): Promise<RetentionResult> {
  const total: RetentionResult = { packages: 0, reports: 0, attestations: 0, accumulations: 0 };
  for (let i = 0; i < RETENTION_MAX_BATCHES; i++) {
    const batch = await deps.workPackages.deleteFinishedOlderThan(opts.retentionDays * DAY_MS, opts.batchSize);
    deps.metrics.janitorDeleted.inc({ task: 'retention', kind: 'package' }, batch.packages);
    deps.metrics.janitorDeleted.inc({ task: 'retention', kind: 'report' }, batch.reports);
    deps.metrics.janitorDeleted.inc({ task: 'retention', kind: 'attestation' }, batch.attestations);
    deps.metrics.janitorDeleted.inc({ task: 'retention', kind: 'accumulation' }, batch.accumulations);
    total.packages += batch.packages;
    total.reports += batch.reports;
    total.attestations += batch.attestations;
    total.accumulations += batch.accumulations;
    if (batch.packages < opts.batchSize) break;
  }
  if (total.packages > 0) deps.logger.info({ ...total, retentionDays: opts.retentionDays }, 'retention deleted finished packages');
  return total;
}
