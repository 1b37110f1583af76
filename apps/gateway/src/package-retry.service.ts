import { Inject, Injectable } from '@nestjs/common';
import { DomainError, RETRYABLE_FAILURE_CODES } from '@jam/domain';
import { ACCUMULATE_REPORT_JOB, jobLocation, refinePackageJobFor } from '@jam/queue-contracts';
import { enqueue, type JobQueue } from '@jam/queue';
import { AttestationRepository, WorkPackageRepository, type WorkPackageSummary } from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { GatewayLimits, JOB_QUEUE, LOGGER } from './gateway.providers';

/** Retries failed packages for POST /jam/packages/{hash}/retry and POST /admin/packages/{hash}/retry. */
@Injectable()
export class PackageRetryService {
  constructor(
    private readonly workPackages: WorkPackageRepository,
    private readonly attestations: AttestationRepository,
    private readonly limits: GatewayLimits,
    private readonly metrics: JamMetrics,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Retries a failed package (POST /jam/packages/{hash}/retry and POST /admin/packages/{hash}/retry):
   * {@link WorkPackageRepository.retryFailed} clears its failure counts and moves it back to
   * `pending` (refine failures) or `attested` (accumulate failures) in one transaction; then, after
   * the commit, the jobs that drive it are enqueued (with its stored queue priority, docs/fairness.md): a refine job for every attester that has not
   * signed a report of it, or its report's accumulate job. A kept failed job with the same id is
   * removed first so the id can run again. If enqueueing fails the reconciler enqueues them.
   * @returns the package after the change
   * @throws DomainError `not_found` (404), `conflict` (409: the package is not failed),
   *   `not_retryable` (422: its failure is a verdict a rerun cannot change, see
   *   RETRYABLE_FAILURE_CODES), `retry_limit_reached` (409: max_package_retries used up)
   */
  async retry(packageHash: string): Promise<WorkPackageSummary> {
    const result = await this.workPackages.retryFailed(packageHash, this.limits.maxPackageRetries);
    switch (result.outcome) {
      case 'not_found':
        throw new DomainError('not_found', `no package ${packageHash}`);
      case 'not_failed':
        throw new DomainError('conflict', `package ${packageHash} is ${result.status}; only a failed package can be retried`, { status: result.status });
      case 'not_retryable':
        throw new DomainError(
          'not_retryable',
          `package ${packageHash} failed with ${result.errorCode ?? 'no error code'}, which a rerun cannot change; retryable: ${Object.keys(RETRYABLE_FAILURE_CODES).join(', ')}`,
          {
            error_code: result.errorCode,
          },
        );
      case 'limit_reached':
        throw new DomainError(
          'retry_limit_reached',
          `package ${packageHash} has had ${result.retries} retries (max_package_retries ${this.limits.maxPackageRetries})`,
          {
            retries: result.retries,
            limit: this.limits.maxPackageRetries,
          },
        );
      case 'retried':
        break;
    }
    const row = result.row;
    try {
      if (result.phase === 'refine') {
        const signed = new Set<number>();
        for (const tally of await this.attestations.reportHashesForPackage(packageHash)) {
          for (const a of await this.attestations.listByReport(tally.reportHash)) signed.add(a.attesterIndex);
        }
        for (let i = 0; i < this.limits.attesterCount; i++) {
          if (signed.has(i)) continue;
          const payload = { package_hash: packageHash, attester_index: i };
          const job = refinePackageJobFor(row.refineGas);
          const { queue, jobId } = jobLocation(job, payload);
          await this.queue.removeFailed(queue, jobId);
          await enqueue(this.queue, job, payload, { priority: row.queuePriority });
        }
      } else {
        const payload = { report_hash: row.reportHash!, package_hash: packageHash };
        const { queue, jobId } = jobLocation(ACCUMULATE_REPORT_JOB, payload);
        await this.queue.removeFailed(queue, jobId);
        await enqueue(this.queue, ACCUMULATE_REPORT_JOB, payload, { priority: row.queuePriority });
      }
    } catch (err) {
      this.logger.error({ err, packageHash }, 'enqueue of a retried package failed; the reconciler will retry');
    }
    this.metrics.packages.inc({ status: row.status });
    this.logger.warn({ packageHash, phase: result.phase, retries: row.retries }, 'failed package retried');
    return row;
  }
}
