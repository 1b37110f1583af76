import { Inject, Injectable } from '@nestjs/common';
import { DomainError, packageHash, toHex, validateWorkPackage, type ValidationProblem, type WorkPackage } from '@jam/domain';
import { packageQueuePriority, refinePackageJobFor } from '@jam/queue-contracts';
import { enqueue, type JobQueue } from '@jam/queue';
import {
  ExportedSegmentRepository,
  AuditLogRepository,
  PreimageRepository,
  ServiceRepository,
  WorkPackageRepository,
  type WorkPackageSummary,
} from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { AccessPolicy, type Caller } from './access.policy';
import { GatewayLimits, JOB_QUEUE, LOGGER } from './gateway.providers';
import { PackageRetryService } from './package-retry.service';
import { packageDependencyProblems, throwDependencyProblem } from './package-dependencies';

/** A checked package: its hash (0x hex Blake2b-256 of its GP encoding) and every problem found. */
export interface CheckedPackage {
  hash: string;
  problems: ValidationProblem[];
  /** Imports this system does not hold, prerequisites not accumulated here (package-dependencies.ts): 422 with their own codes. */
  dependencyProblems: ValidationProblem[];
}

/**
 * Work package submission (docs/architecture.md sections 5-7): validation against the GP rules and
 * the database, the `max_pending_packages` quota, the row written first and the refine jobs
 * enqueued after the commit; package status reads and retries by owners.
 */
@Injectable()
export class PackageSubmissionService {
  constructor(
    private readonly workPackages: WorkPackageRepository,
    private readonly exportedSegments: ExportedSegmentRepository,
    private readonly services: ServiceRepository,
    private readonly preimages: PreimageRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly access: AccessPolicy,
    private readonly retries: PackageRetryService,
    private readonly limits: GatewayLimits,
    private readonly metrics: JamMetrics,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The package's hash and its problems: the GP rules (`validateWorkPackage`), then what only the database can see. */
  async check(caller: Caller, pkg: WorkPackage): Promise<CheckedPackage> {
    const hash = toHex(packageHash(pkg));
    return {
      hash,
      problems: [...validateWorkPackage(pkg), ...(await this.checkReferences(pkg, caller))],
      dependencyProblems: await packageDependencyProblems({ exportedSegments: this.exportedSegments, workPackages: this.workPackages }, pkg),
    };
  }

  /**
   * Stores a checked package and enqueues one refine job per attester after the commit (a failed
   * enqueue is left to the reconciler); the same package again answers its current status.
   * @param encoded the package's GP encoding (bytes)
   * @returns the package hash and status (202 on the wire)
   * @throws DomainError `invalid_package` (422) with `details.problems`; `unknown_import_segment` /
   *   `unknown_prerequisite` (422) for what the package depends on; `quota_exceeded` (429)
   *   past `max_pending_packages` or the caller's override
   */
  async submit(caller: Caller, pkg: WorkPackage, encoded: Uint8Array, checked: CheckedPackage): Promise<{ hash: string; status: string }> {
    const { hash, problems } = checked;
    if (problems.length > 0) {
      throw new DomainError('invalid_package', `work package has ${problems.length} problem(s): ${problems[0]!.message}`, { problems });
    }
    throwDependencyProblem(checked.dependencyProblems);
    // the stored status, the caller's quota override and backlog in one read
    const state = await this.workPackages.submissionState(hash, caller.principal);
    if (state.existingStatus !== null) return { hash, status: state.existingStatus };
    const maxPending = state.maxPendingPackages ?? this.limits.maxPendingPackages;
    const backlog = state.backlog;
    if (backlog.packages >= maxPending) {
      this.metrics.quotaRejected.inc({ quota: 'max_pending_packages' });
      throw new DomainError('quota_exceeded', `max_pending_packages (${maxPending}) unfinished packages already submitted`, { limit: maxPending });
    }
    const serviceIds = [...new Set(pkg.items.map((i) => i.service))].sort((a, b) => a - b);
    // Fair sharing (docs/fairness.md): the refine gas the submitter already has in flight (read with
    // the quota's count) orders this package's jobs behind the backlogs of busier submitters at every hop.
    const queuePriority = packageQueuePriority(backlog.refineGas);
    const refineGas = pkg.items.reduce((sum, item) => sum + item.refine_gas_limit, 0n);
    const { created, row } = await this.workPackages.insertIfAbsent({ hash, encoded, serviceIds, submittedBy: caller.principal, queuePriority, refineGas });
    if (created) {
      this.metrics.packages.inc({ status: 'pending' });
      // Enqueue after the commit. If this fails the row stays `pending` and the reconciler enqueues it.
      // A short package (declared refine gas <= G_A) goes to the attesters' express queues (docs/fairness.md).
      const job = refinePackageJobFor(row.refineGas);
      try {
        // one job per attester, sent together (one round trip's wait instead of n; each job id is its own dedupe)
        await Promise.all(
          Array.from({ length: this.limits.attesterCount }, (_, i) =>
            enqueue(this.queue, job, { package_hash: hash, attester_index: i }, { priority: row.queuePriority }),
          ),
        );
      } catch (err) {
        this.logger.error({ err, hash }, 'enqueue failed; the reconciler will retry');
      }
      this.logger.info({ hash, serviceIds, tokenHash: caller.tokenHash }, 'package accepted');
    }
    return { hash, status: row.status };
  }

  /** @throws DomainError('not_found') when the package is missing or not visible to the caller. */
  async status(caller: Caller, hash: string): Promise<WorkPackageSummary> {
    return this.access.workPackage(caller, hash);
  }

  /**
   * Retries a failed package for its owner or a delegate (404 for anyone else); every call is
   * written to the audit log (`package.retry`), refused ones too.
   * @param target `METHOD path` of the request, for the audit row
   * @throws DomainError as {@link PackageRetryService.retry}
   */
  async retry(caller: Caller, hash: string, target: string): Promise<WorkPackageSummary> {
    await this.access.workPackage(caller, hash);
    const audit = (outcome: string, details: Record<string, string | number | null>) =>
      this.auditLog.append({
        actorTokenHash: caller.tokenDigest === null ? null : `0x${caller.tokenDigest}`,
        action: 'package.retry',
        target,
        outcome,
        details: { principal: caller.principal, ...details },
      });
    let row: WorkPackageSummary;
    try {
      row = await this.retries.retry(hash);
    } catch (err) {
      await audit('failure', { error: err instanceof DomainError ? err.code : 'internal' });
      throw err;
    }
    await audit('success', { status: row.status, retries: row.retries });
    return row;
  }

  /**
   * Problems only the database can see: unknown services, code hash mismatch, missing extrinsic
   * preimages. A service or preimage the caller may not use is reported exactly as an unknown one.
   */
  private async checkReferences(pkg: WorkPackage, caller: Caller): Promise<ValidationProblem[]> {
    const problems: ValidationProblem[] = [];
    for (let i = 0; i < pkg.items.length; i++) {
      const item = pkg.items[i]!;
      const service = await this.services.get(item.service);
      if (!service || !this.access.usesService(caller, service)) {
        problems.push({ path: `items[${i}].service`, code: 'unknown_service', message: `service ${item.service} is not registered` });
      } else if (service.codeHash !== toHex(item.code_hash)) {
        problems.push({
          path: `items[${i}].code_hash`,
          code: 'code_hash_mismatch',
          message: `service ${item.service} runs code ${service.codeHash}, not ${toHex(item.code_hash)}`,
        });
      }
      for (let j = 0; j < item.extrinsic.length; j++) {
        const x = item.extrinsic[j]!;
        const pre = (await this.access.canReadPreimage(caller, toHex(x.hash))) ? await this.preimages.get(toHex(x.hash)) : null;
        if (!pre)
          problems.push({ path: `items[${i}].extrinsic[${j}]`, code: 'unknown_preimage', message: `extrinsic ${toHex(x.hash)} is not a stored preimage` });
        else if (Number(pre.length) !== x.len)
          problems.push({
            path: `items[${i}].extrinsic[${j}].len`,
            code: 'length_mismatch',
            message: `extrinsic ${toHex(x.hash)} is ${pre.length} bytes, not ${x.len}`,
          });
      }
    }
    return problems;
  }
}
