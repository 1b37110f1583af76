import {
  ACCUMULATE_QUEUE,
  ACCUMULATE_REPORT_V1,
  ATTESTATION_QUEUE,
  REFINE_PACKAGE_V1,
  VERIFY_ATTESTATION_V1,
  accumulateJobId,
  attestationJobId,
  refineJobId,
  refineQueueName,
} from '@jam/queue-contracts';
import type { JobQueue } from '@jam/queue';
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
 * The database row is the truth, the queue the trigger (DESIGN.md section 6). For packages that
 * have not moved for `staleMs`, re-enqueue the job that should be driving them when it is missing
 * (Redis restarted or evicted, in-process queue lost on a crash):
 * - pending/refining/attesting: a refine job for every attester that has not attested yet
 *   (refine is idempotent and re-sends its attestation); and when the recorded attestations
 *   already decide the package (threshold met, or conflicting reports) but its status does not
 *   show it (the process died, or the job was lost, between an attestation's insert and its
 *   verdict), the attestation job of one recorded signature, which re-applies the verdict;
 * - attested/accumulating: the accumulate job of its report.
 * Duplicate enqueues collapse on the deterministic job ids; a kept failed job of unfinished work
 * is removed first so its id can run again (one retry round per stale interval, not a hot loop).
 * @returns how many jobs were enqueued.
 */
export async function reconcile(deps: ReconcileDeps, staleMs: number): Promise<number> {
  let enqueued = 0;
  const early = await deps.workPackages.findStale(['pending', 'refining', 'attesting'], staleMs, BATCH);
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
      const jobId = attestationJobId(recorded.reportHash, recorded.attesterIndex);
      if (!(await deps.queue.isQueued(ATTESTATION_QUEUE, jobId))) {
        await deps.queue.removeFailed(ATTESTATION_QUEUE, jobId);
        const payload = { report_hash: recorded.reportHash, package_hash: row.hash, attester_index: recorded.attesterIndex, signature: recorded.signature };
        await deps.queue.enqueue(ATTESTATION_QUEUE, VERIFY_ATTESTATION_V1, payload, { jobId });
        deps.metrics.reenqueued.inc({ queue: ATTESTATION_QUEUE });
        enqueued++;
      }
    }
    for (let i = 0; i < deps.attesterCount; i++) {
      if (signed.has(i)) continue;
      const queue = refineQueueName(i);
      const jobId = refineJobId(row.hash, i);
      if (await deps.queue.isQueued(queue, jobId)) continue;
      // A kept failed job (retries exhausted while a store was down) would block its id.
      await deps.queue.removeFailed(queue, jobId);
      await deps.queue.enqueue(queue, REFINE_PACKAGE_V1, { package_hash: row.hash, attester_index: i }, { jobId });
      deps.metrics.reenqueued.inc({ queue });
      enqueued++;
    }
  }
  const late = await deps.workPackages.findStale(['attested', 'accumulating'], staleMs, BATCH);
  for (const row of late) {
    if (!row.reportHash) continue;
    const jobId = accumulateJobId(row.reportHash);
    if (await deps.queue.isQueued(ACCUMULATE_QUEUE, jobId)) continue;
    await deps.queue.removeFailed(ACCUMULATE_QUEUE, jobId);
    await deps.queue.enqueue(ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, { report_hash: row.reportHash, package_hash: row.hash }, { jobId });
    deps.metrics.reenqueued.inc({ queue: ACCUMULATE_QUEUE });
    enqueued++;
  }
  if (enqueued > 0) deps.logger.info({ enqueued }, 'reconciler re-enqueued missing jobs');
  return enqueued;
}
