import {
  ACCUMULATE_REPORT_JOB,
  REFINE_PACKAGE_EXPRESS_JOB,
  REFINE_PACKAGE_JOB,
  VERIFY_ATTESTATION_JOB,
  jobLocation,
  refinePackageJobFor,
} from '@jam/queue-contracts';
import { enqueue, type JobQueue } from '@jam/queue';
import { ACCUMULATE_PHASE_STATUSES, REFINE_PHASE_STATUSES } from '@jam/domain';
import { decideVerdict } from '@jam/attest';
import type { AttestationRecord, AttestationRepository, WorkPackageRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the reconciler needs; built by the launcher. */
export interface ReconcileDeps {
  workPackages: WorkPackageRepository;
  attestations: AttestationRepository;
  queue: JobQueue;
  /** n: size of the attester set (`attesters`). */
  attesterCount: number;
  /** t: `attestation_threshold`, to tell when the recorded attestations already decide a package. */
  threshold: number;
  metrics: JamMetrics;
  logger: Logger;
}

/** Rows examined per run; the next run continues with what is still stale. */
const BATCH = 500;

/**
 * The database row is the truth, the queue the trigger (docs/architecture.md section 6). For packages that
 * have not moved for `staleMs`, re-enqueue the job that should be driving them when it is missing
 * (Redis restarted or evicted, in-process queue lost on a crash):
 * - pending/refining/attesting: a refine job for every attester that has not attested yet
 *   (refine is idempotent and re-sends its attestation), on the refine queue its declared refine
 *   gas picks (`refinePackageJobFor`; a job still queued in the attester's other refine queue counts); and when the recorded attestations
 *   already decide the package (threshold met, or conflicting reports) but its status does not
 *   show it (the process died, or the job was lost, between an attestation's insert and its
 *   verdict), the attestation job of one recorded signature, which re-applies the verdict;
 * - attested/accumulating: the accumulate job of its report.
 * Every job is enqueued with the package's stored queue priority (docs/fairness.md), as its
 * producers would. Duplicate enqueues collapse on the deterministic job ids; a kept failed job of unfinished work
 * is removed first so its id can run again (one retry round per stale interval, not a hot loop).
 * @returns how many jobs were enqueued.
 */
export async function reconcile(deps: ReconcileDeps, staleMs: number): Promise<number> {
  let enqueued = 0;
  const early = await deps.workPackages.findStale([...REFINE_PHASE_STATUSES], staleMs, BATCH);
  for (const row of early) {
    const signed = new Set<number>();
    const tallies = await deps.attestations.reportHashesForPackage(row.hash);
    let recorded: AttestationRecord | undefined;
    for (const tally of tallies) {
      for (const a of await deps.attestations.listByReport(tally.reportHash)) {
        signed.add(a.attesterIndex);
        recorded ??= a;
      }
    }
    if (recorded !== undefined && decideVerdict(tallies, deps.threshold, deps.attesterCount).kind !== 'pending') {
      const payload = { report_hash: recorded.reportHash, package_hash: row.hash, attester_index: recorded.attesterIndex, signature: recorded.signature };
      const { queue, jobId } = jobLocation(VERIFY_ATTESTATION_JOB, payload);
      if (!(await deps.queue.isQueued(queue, jobId))) {
        await deps.queue.removeFailed(queue, jobId);
        await enqueue(deps.queue, VERIFY_ATTESTATION_JOB, payload, { priority: row.queuePriority });
        deps.metrics.reenqueued.inc({ queue });
        enqueued++;
      }
    }
    // The package's refine queue follows from its declared refine gas (express at most G_A).
    const job = refinePackageJobFor(row.refineGas);
    const other = job === REFINE_PACKAGE_JOB ? REFINE_PACKAGE_EXPRESS_JOB : REFINE_PACKAGE_JOB;
    for (let i = 0; i < deps.attesterCount; i++) {
      if (signed.has(i)) continue;
      const payload = { package_hash: row.hash, attester_index: i };
      const { queue, jobId } = jobLocation(job, payload);
      if (await deps.queue.isQueued(queue, jobId)) continue;
      // A job in the attester's other refine queue (enqueued before express queues existed) still drives it.
      const elsewhere = jobLocation(other, payload);
      if (await deps.queue.isQueued(elsewhere.queue, elsewhere.jobId)) continue;
      // A kept failed job (retries exhausted while a store was down) would block its id.
      await deps.queue.removeFailed(queue, jobId);
      await enqueue(deps.queue, job, payload, { priority: row.queuePriority });
      deps.metrics.reenqueued.inc({ queue });
      enqueued++;
    }
  }
  const late = await deps.workPackages.findStale([...ACCUMULATE_PHASE_STATUSES], staleMs, BATCH);
  for (const row of late) {
    if (!row.reportHash) continue;
    const payload = { report_hash: row.reportHash, package_hash: row.hash };
    const { queue, jobId } = jobLocation(ACCUMULATE_REPORT_JOB, payload);
    if (await deps.queue.isQueued(queue, jobId)) continue;
    await deps.queue.removeFailed(queue, jobId);
    await enqueue(deps.queue, ACCUMULATE_REPORT_JOB, payload, { priority: row.queuePriority });
    deps.metrics.reenqueued.inc({ queue });
    enqueued++;
  }
  if (enqueued > 0) deps.logger.info({ enqueued }, 'reconciler re-enqueued missing jobs');
  return enqueued;
}
