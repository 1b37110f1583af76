import { Inject, Injectable } from '@nestjs/common';
import { DomainError, PACKAGE_TRANSITIONS as T } from '@jam/domain';
import { ACCUMULATE_REPORT_JOB } from '@jam/queue-contracts';
import { enqueue, type JobQueue } from '@jam/queue';
import { AttestationRepository, WorkPackageRepository, WorkReportRepository, type WorkPackageSummary } from '@jam/persistence';
import type { Logger } from '@jam/telemetry';
import { GatewayLimits, JOB_QUEUE, LOGGER } from './gateway.providers';

/** An admin's decision on a disputed package (`resolveDisputeBodySchema` of `@jam/http-contract`). */
export type DisputeDecision = { decision: 'accept'; report_hash: string } | { decision: 'reject'; reason?: string };

/**
 * Disputes (threat model "Conflicting Reports", docs/architecture.md section 6 "Threshold and
 * disputes"): the disputed packages with their conflicting reports, and an admin's resolution.
 */
@Injectable()
export class DisputeResolutionService {
  constructor(
    private readonly workPackages: WorkPackageRepository,
    private readonly workReports: WorkReportRepository,
    private readonly attestations: AttestationRepository,
    private readonly limits: GatewayLimits,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The attestation threshold (distinct signers) reports are held to. */
  get threshold(): number {
    return this.limits.attestationThreshold;
  }

  /** Disputed packages, newest first, each with its report hashes and their distinct signer counts. */
  async list(query: { cursor: string | undefined; limit: number }) {
    const page = await this.workPackages.listByStatus('disputed', query);
    const items = [];
    for (const p of page.items) {
      const tallies = await this.attestations.reportHashesForPackage(p.hash);
      items.push({ pkg: p, reports: tallies.map((t) => ({ report_hash: t.reportHash, signers: t.signers })) });
    }
    return { items, nextCursor: page.nextCursor };
  }

  /**
   * Resolves a disputed package: `accept` moves it disputed -> attested with that report and
   * enqueues its accumulate job after the commit (the job id the attestation processor uses, so it
   * runs at most once); `reject` moves it disputed -> failed (`dispute_rejected`).
   * @param tokenHash short token hash of the admin, for the log
   * @returns the package afterwards
   * @throws DomainError `not_found` (404), `conflict` (409: not disputed, or changed meanwhile),
   *   `invalid_request` (400: the report is not one of the package's)
   */
  async resolve(packageHash: string, body: DisputeDecision, tokenHash: string): Promise<WorkPackageSummary> {
    const row = await this.workPackages.get(packageHash);
    if (!row) throw new DomainError('not_found', `no package ${packageHash}`);
    if (row.status !== 'disputed') throw new DomainError('conflict', `package ${packageHash} is ${row.status}, not disputed`, { status: row.status });
    if (body.decision === 'accept') {
      const report = await this.workReports.get(body.report_hash);
      if (!report || report.packageHash !== packageHash)
        throw new DomainError('invalid_request', `report ${body.report_hash} is not a report of package ${packageHash}`);
      if (!(await this.workPackages.transition(packageHash, T.acceptDispute.from, T.acceptDispute.to, { reportHash: body.report_hash }))) {
        throw new DomainError('conflict', `package ${packageHash} changed status while resolving`);
      }
      // After the commit, like every enqueue; if it fails the reconciler re-enqueues attested packages.
      try {
        await enqueue(this.queue, ACCUMULATE_REPORT_JOB, { report_hash: body.report_hash, package_hash: packageHash }, { priority: row.queuePriority });
      } catch (err) {
        this.logger.error({ err, packageHash }, 'enqueue of resolved dispute failed; the reconciler will retry');
      }
      this.logger.warn({ packageHash, reportHash: body.report_hash, tokenHash }, 'dispute resolved: report accepted');
    } else {
      const reason = body.reason ?? 'rejected by an administrator';
      if (
        !(await this.workPackages.transition(packageHash, T.rejectDispute.from, T.rejectDispute.to, {
          errorCode: 'dispute_rejected',
          errorMessage: reason,
        }))
      ) {
        throw new DomainError('conflict', `package ${packageHash} changed status while resolving`);
      }
      this.logger.warn({ packageHash, tokenHash }, 'dispute resolved: package rejected');
    }
    return (await this.workPackages.get(packageHash))!;
  }
}
