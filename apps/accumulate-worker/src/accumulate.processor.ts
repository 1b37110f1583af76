import { DomainError, decodeWorkReport, toHex, type WorkDigest } from '@jam/domain';
import { parseJobPayload, ACCUMULATE_REPORT_V1 } from '@jam/queue-contracts';
import { PermanentJobError, type ConsumedJob } from '@jam/queue';
import type { BlobStore } from '@jam/blob-store';
import type { SandboxPool } from '@jam/sandbox';
import type { AccumulationRepository, ServiceRepository, WorkPackageRepository, WorkReportRepository } from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** What the accumulate processor needs; built by the launcher. */
export interface AccumulateDeps {
  workPackages: WorkPackageRepository;
  workReports: WorkReportRepository;
  services: ServiceRepository;
  accumulations: AccumulationRepository;
  blobs: BlobStore;
  sandbox: SandboxPool;
  metrics: JamMetrics;
  logger: Logger;
}

/**
 * Applies one attested report (DESIGN.md section 6): for each service with digests in the report,
 * runs its `accumulate` with those digests as operands and commits the storage writes in one
 * transaction per (report, service), exactly once (unique accumulation row) and one report at a
 * time per service (row lock). Then marks the package `accumulated`.
 *
 * A guest that panics or runs out of gas commits no writes but still counts as applied (the
 * outcome is deterministic); DB and blob errors are transient and retried.
 */
export class AccumulateProcessor {
  constructor(private readonly deps: AccumulateDeps) {}

  async handle(job: ConsumedJob): Promise<void> {
    const { report_hash: reportHash, package_hash: packageHash } = parseJobPayload(ACCUMULATE_REPORT_V1, job.payload);
    const { deps } = this;
    const row = await deps.workPackages.get(packageHash);
    if (!row) throw new PermanentJobError(`unknown package ${packageHash}`);
    if (row.status === 'accumulated') return;
    if (row.reportHash !== reportHash || !['attested', 'accumulating'].includes(row.status)) {
      throw new PermanentJobError(`package ${packageHash} is ${row.status} with report ${row.reportHash ?? 'none'}; refusing to accumulate ${reportHash}`);
    }
    const stored = await deps.workReports.get(reportHash);
    if (!stored) throw new PermanentJobError(`report ${reportHash} is not stored`);
    await deps.workPackages.transition(packageHash, ['attested'], 'accumulating');
    const report = decodeWorkReport(stored.encoded);

    const byService = new Map<number, WorkDigest[]>();
    for (const digest of report.results) {
      const list = byService.get(digest.service_id) ?? [];
      list.push(digest);
      byService.set(digest.service_id, list);
    }
    for (const serviceId of [...byService.keys()].sort((a, b) => a - b)) {
      const digests = byService.get(serviceId)!;
      const service = await deps.services.get(serviceId);
      if (!service) {
        deps.logger.warn({ serviceId, reportHash }, 'service gone; skipping its digests');
        continue;
      }
      let code: Uint8Array;
      try {
        code = await deps.blobs.getBytes(service.codeHash);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'not_found') {
          deps.logger.warn({ serviceId, reportHash }, 'service code missing; skipping its digests');
          continue;
        }
        throw err;
      }
      const gasLimit = digests.reduce((g, d) => g + d.accumulate_gas, 0n);
      const result = await deps.accumulations.applyOnce({
        reportHash,
        packageHash,
        serviceId,
        run: async (storage) => {
          const outcome = await deps.sandbox.accumulate({
            codeHash: service.codeHash,
            code,
            serviceId,
            gasLimit,
            operands: digests.map((d) => ({ packageHash, payloadHash: toHex(d.payload_hash), result: d.result })),
            storage,
          });
          // A wall-clock kill is not deterministic: roll back and retry rather than record it.
          if (outcome.timedOut) throw new Error(`accumulate of service ${serviceId} hit the sandbox wall-clock limit`);
          deps.metrics.gasUsed.inc({ phase: 'accumulate' }, Number(outcome.gasUsed));
          if (outcome.status !== 'ok') deps.metrics.sandboxTraps.inc({ phase: 'accumulate', result: outcome.status });
          return { status: outcome.status, gasUsed: outcome.gasUsed, writes: outcome.status === 'ok' ? outcome.writes : [] };
        },
      });
      deps.logger.info({ reportHash, serviceId, applied: result.applied, status: result.status }, 'accumulate');
    }
    if (await deps.workPackages.transition(packageHash, ['accumulating', 'attested'], 'accumulated')) {
      deps.metrics.packages.inc({ status: 'accumulated' });
    }
  }
}
