import { PACKAGE_TRANSITIONS as T, fromHex } from '@jam/domain';
import { parseJobPayload, VERIFY_ATTESTATION_V1, ACCUMULATE_REPORT_JOB } from '@jam/queue-contracts';
import { PermanentJobError, enqueue, type ConsumedJob, type JobQueue } from '@jam/queue';
import { decideVerdict, verifyGuarantee } from '@jam/attest';
import type { AttestationRepository, AttesterRepository, WorkPackageRepository, WorkReportRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the attestation processor needs; built by the attestation role (attestation.role.ts). */
export interface AttestationDeps {
  workPackages: WorkPackageRepository;
  workReports: WorkReportRepository;
  attesters: AttesterRepository;
  attestations: AttestationRepository;
  queue: JobQueue;
  /** t: distinct valid signatures needed (`attestation_threshold`). */
  threshold: number;
  /** n: size of the registered attester set. */
  attesterCount: number;
  metrics: JamMetrics;
  logger: Logger;
}

/**
 * Verifies one attester's guarantee signature, records it once per (report, attester), and
 * applies the threshold and conflict rules of docs/architecture.md section 6 via `decideVerdict`:
 * threshold reached -> package `attested` and the accumulate job enqueued (id = report hash);
 * conflicting reports without a strict-majority winner -> `disputed`, accumulate blocked.
 * A bad signature, unknown attester or unknown report is final (UnrecoverableError).
 */
export class AttestationProcessor {
  constructor(private readonly deps: AttestationDeps) {}

  async handle(job: ConsumedJob): Promise<void> {
    const p = parseJobPayload(VERIFY_ATTESTATION_V1, job.payload);
    const { deps } = this;
    const attester = (await deps.attesters.list()).find((a) => a.index === p.attester_index);
    if (!attester) {
      deps.metrics.attestations.inc({ outcome: 'invalid' });
      throw new PermanentJobError(`unknown attester ${p.attester_index}`);
    }
    const report = await deps.workReports.get(p.report_hash);
    if (!report || report.packageHash !== p.package_hash) {
      deps.metrics.attestations.inc({ outcome: 'invalid' });
      throw new PermanentJobError(`report ${p.report_hash} is not a stored report of package ${p.package_hash}`);
    }
    if (!verifyGuarantee(fromHex(attester.publicKey, 32), fromHex(p.report_hash, 32), fromHex(p.signature, 64))) {
      deps.metrics.attestations.inc({ outcome: 'invalid' });
      deps.logger.warn({ attesterIndex: p.attester_index, reportHash: p.report_hash }, 'invalid guarantee signature');
      throw new PermanentJobError(`invalid signature from attester ${p.attester_index} on ${p.report_hash}`);
    }
    const { created } = await deps.attestations.insertIfAbsent({
      reportHash: p.report_hash,
      packageHash: p.package_hash,
      attesterIndex: p.attester_index,
      signature: p.signature,
    });
    deps.metrics.attestations.inc({ outcome: created ? 'accepted' : 'duplicate' });
    await deps.workPackages.transition(p.package_hash, T.recordAttestation.from, T.recordAttestation.to);

    const tallies = await deps.attestations.reportHashesForPackage(p.package_hash);
    const verdict = decideVerdict(tallies, deps.threshold, deps.attesterCount);
    if (verdict.kind === 'attested') {
      await deps.workPackages.transition(p.package_hash, T.attest.from, T.attest.to, { reportHash: verdict.reportHash });
      const row = await deps.workPackages.get(p.package_hash);
      // Enqueue whenever the package still waits for accumulate: a retried job re-enqueues a lost accumulate job.
      if (row && row.status === 'attested' && row.reportHash === verdict.reportHash) {
        await enqueue(deps.queue, ACCUMULATE_REPORT_JOB, { report_hash: verdict.reportHash, package_hash: p.package_hash }, { priority: row.queuePriority });
      }
    } else if (verdict.kind === 'disputed') {
      const moved = await deps.workPackages.transition(p.package_hash, T.dispute.from, T.dispute.to, {
        errorCode: 'conflicting_reports',
        errorMessage: `conflicting reports: ${verdict.reportHashes.join(', ')}`,
      });
      if (moved) {
        deps.metrics.disputes.inc();
        deps.logger.warn({ packageHash: p.package_hash, reportHashes: verdict.reportHashes }, 'package disputed: conflicting reports');
      }
    }
  }
}
