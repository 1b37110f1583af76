import { PACKAGE_TRANSITIONS as T, fromHex } from '@jam/domain';
import { parseJobPayload, VERIFY_ATTESTATION_V1, ACCUMULATE_REPORT_JOB } from '@jam/queue-contracts';
import { PermanentJobError, enqueue, type ConsumedJob, type JobQueue } from '@jam/queue';
import { decideVerdict, verifyGuarantee } from '@jam/attest';
import type { AttestationRepository, AttesterRepository, WorkPackageRepository, WorkReportRepository } from '@jam/persistence';
import { AttesterSetCache } from './attester-set.cache';
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
  private readonly attesterSet: AttesterSetCache;

  constructor(private readonly deps: AttestationDeps) {
    this.attesterSet = new AttesterSetCache(deps.attesters);
  }

  async handle(job: ConsumedJob): Promise<void> {
    const p = parseJobPayload(VERIFY_ATTESTATION_V1, job.payload);
    const { deps } = this;
    await this.verify(p.attester_index, p.report_hash, p.signature);
    // the report check and the insert in one statement (no read of the report row)
    const { report, created } = await deps.attestations.insertIfReportOf({
      reportHash: p.report_hash,
      packageHash: p.package_hash,
      attesterIndex: p.attester_index,
      signature: p.signature,
    });
    if (!report) {
      deps.metrics.attestations.inc({ outcome: 'invalid' });
      throw new PermanentJobError(`report ${p.report_hash} is not a stored report of package ${p.package_hash}`);
    }
    deps.metrics.attestations.inc({ outcome: created ? 'accepted' : 'duplicate' });

    const tallies = await deps.attestations.reportHashesForPackage(p.package_hash);
    const verdict = decideVerdict(tallies, deps.threshold, deps.attesterCount);
    // One compare-and-set per attestation: the verdict's move (whose `from` includes every status
    // `recordAttestation` moves from), else `recordAttestation`.
    if (verdict.kind === 'attested') {
      const { row } = await deps.workPackages.transitionAndRead(p.package_hash, T.attest.from, T.attest.to, { reportHash: verdict.reportHash });
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
    } else {
      await deps.workPackages.transition(p.package_hash, T.recordAttestation.from, T.recordAttestation.to);
    }
  }

  /**
   * Checks the signature against the attester's registered key (the cached set, re-read before
   * refusing). @throws PermanentJobError for an unknown attester or a bad signature
   */
  private async verify(attesterIndex: number, reportHash: string, signature: string): Promise<void> {
    const { deps } = this;
    const hash = fromHex(reportHash, 32);
    const sig = fromHex(signature, 64);
    let attester = await this.attesterSet.get(attesterIndex);
    if (!attester || !verifyGuarantee(attester.publicKey, hash, sig)) {
      // the copy may predate a registration or re-key: decide on the table as it is now
      const fresh = await this.attesterSet.get(attesterIndex, { fresh: true });
      const again = fresh !== undefined && (attester === undefined || fresh.publicKeyHex !== attester.publicKeyHex);
      attester = fresh;
      if (!attester) {
        deps.metrics.attestations.inc({ outcome: 'invalid' });
        throw new PermanentJobError(`unknown attester ${attesterIndex}`);
      }
      if (!again || !verifyGuarantee(attester.publicKey, hash, sig)) {
        deps.metrics.attestations.inc({ outcome: 'invalid' });
        deps.logger.warn({ attesterIndex, reportHash }, 'invalid guarantee signature');
        throw new PermanentJobError(`invalid signature from attester ${attesterIndex} on ${reportHash}`);
      }
    }
  }
}
