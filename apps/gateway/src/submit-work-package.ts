import { DomainError, packageHash, toHex, validateWorkPackage, type ValidationProblem, type WorkPackage, type PackageStatus } from '@jam/domain';
import { REFINE_PACKAGE_JOB, packageQueuePriority } from '@jam/queue-contracts';
import { enqueue } from '@jam/queue';
import type { GatewayDeps } from './gateway.deps';
import type { AccessPolicy, Caller } from './access.policy';
import { packageDependencyProblems, throwDependencyProblem } from './package-dependencies';

/** The submitter of a package: a caller with the short token hash that is safe to log. */
export type Submitter = Caller & { tokenHash: string };

/**
 * Outcome of {@link submitWorkPackage}: a dry run's problems (nothing stored), or the package
 * accepted (`created` false when the same package was already stored: idempotent).
 */
export type WorkPackageSubmission =
  { kind: 'dry_run'; hash: string; problems: ValidationProblem[] } | { kind: 'accepted'; hash: string; status: PackageStatus; created: boolean };

/**
 * The one submission path of the gateway, used by `POST /jam/packages` and JIP-2
 * `submitWorkPackage` alike: validate (the GP limits of `validateWorkPackage` and the references
 * only the database can see), then, unless `dryRun`, enforce `max_pending_packages` (or the
 * caller's override), write the row, and enqueue one refine job per attester after the commit
 * (a failed enqueue is left to the reconciler; docs/architecture.md section 6).
 * @param encoded the package's GP 0.7.2 encoding (bytes), as stored
 * @throws DomainError('invalid_package', details.problems) when a problem is found (not in a dry run)
 * @throws DomainError('quota_exceeded', details.limit) past max_pending_packages
 * @throws DomainError('unknown_import_segment' | 'unknown_prerequisite') (package-dependencies.ts) for an
 *   import this system does not hold or a prerequisite not accumulated here (not in a dry run)
 */
export async function submitWorkPackage(
  deps: GatewayDeps,
  access: AccessPolicy,
  caller: Submitter,
  pkg: WorkPackage,
  encoded: Uint8Array,
  opts: { dryRun: boolean },
): Promise<WorkPackageSubmission> {
  const hash = toHex(packageHash(pkg));
  const problems = [...validateWorkPackage(pkg), ...(await checkReferences(deps, access, caller, pkg))];
  // Imports this system does not hold and prerequisites not accumulated here (GP 0.7.2: it could not refine it): 422.
  const dependencyProblems = await packageDependencyProblems(deps, pkg);
  if (opts.dryRun) return { kind: 'dry_run', hash, problems: [...problems, ...dependencyProblems] };
  if (problems.length > 0) {
    throw new DomainError('invalid_package', `work package has ${problems.length} problem(s): ${problems[0]!.message}`, { problems });
  }
  throwDependencyProblem(dependencyProblems);
  const existing = await deps.workPackages.get(hash);
  if (existing) return { kind: 'accepted', hash, status: existing.status, created: false };
  const maxPending = (await deps.principalQuotas.get(caller.principal))?.maxPendingPackages ?? deps.maxPendingPackages;
  const backlog = await deps.workPackages.inFlightBySubmitter(caller.principal);
  if (backlog.packages >= maxPending) {
    deps.metrics.quotaRejected.inc({ quota: 'max_pending_packages' });
    throw new DomainError('quota_exceeded', `max_pending_packages (${maxPending}) unfinished packages already submitted`, { limit: maxPending });
  }
  const serviceIds = [...new Set(pkg.items.map((i) => i.service))].sort((a, b) => a - b);
  // Fair sharing (docs/fairness.md): the refine gas the submitter already has in flight (read with
  // the quota's count) orders this package's jobs behind the backlogs of busier submitters at every hop.
  const queuePriority = packageQueuePriority(backlog.refineGas);
  const refineGas = pkg.items.reduce((sum, item) => sum + item.refine_gas_limit, 0n);
  const { created, row } = await deps.workPackages.insertIfAbsent({ hash, encoded, serviceIds, submittedBy: caller.principal, queuePriority, refineGas });
  if (created) {
    deps.metrics.packages.inc({ status: 'pending' });
    // Enqueue after the commit. If this fails the row stays `pending` and the reconciler enqueues it.
    try {
      for (let i = 0; i < deps.attesterCount; i++) {
        await enqueue(deps.queue, REFINE_PACKAGE_JOB, { package_hash: hash, attester_index: i }, { priority: row.queuePriority });
      }
    } catch (err) {
      deps.logger.error({ err, hash }, 'enqueue failed; the reconciler will retry');
    }
    deps.logger.info({ hash, serviceIds, tokenHash: caller.tokenHash }, 'package accepted');
  }
  return { kind: 'accepted', hash, status: row.status, created };
}

/**
 * Problems only the database can see: unknown services, code hash mismatch, missing extrinsic
 * preimages. A service or preimage the caller may not use is reported exactly as an unknown one.
 */
async function checkReferences(deps: GatewayDeps, access: AccessPolicy, caller: Caller, pkg: WorkPackage): Promise<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  for (let i = 0; i < pkg.items.length; i++) {
    const item = pkg.items[i]!;
    const service = await deps.services.get(item.service);
    if (!service || !access.usesService(caller, service)) {
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
      const pre = (await access.canReadPreimage(caller, toHex(x.hash))) ? await deps.preimages.get(toHex(x.hash)) : null;
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
