import { fromHex, type WorkReport } from '@jam/domain';
import { GpStateLimitError, type AccumulationRepository, type AccumulationStatus, type GpStateRepository } from '@jam/persistence';
import { FULL_ACCUMULATE_CONFIG, sandboxFailureKind, thresholdBalance, type StorageQuota } from '@jam/sandbox';
import type { JamMetrics, Logger } from '@jam/telemetry';
import { GpAccumulateWallClockError, type GpAccumulator } from './gp-accumulator';

/** A PVM service of a report, as the accumulate processor found it (its code is a JAM service blob). */
export interface PvmService {
  serviceId: number;
  /** The tenant (`service.owner`): its GP state is the one this service accumulates in. */
  owner: string;
  /** The code bytes (a JAM service blob) and their Blake2b-256 hash, `0x` hex. */
  code: Uint8Array;
  codeHash: string;
  /** gas */
  minItemGas: bigint;
  minMemoGas: bigint;
}

/** What {@link accumulatePvmServices} needs (a subset of the processor's deps). */
export interface PvmAccumulateDeps {
  gp: { accumulator: GpAccumulator; state: GpStateRepository };
  accumulations: AccumulationRepository;
  storageQuota: StorageQuota;
  maxAccumulateTimeouts: number;
  maxSandboxFailures: number;
  metrics: JamMetrics;
  logger: Logger;
}

/**
 * The balance a product PVM service's GP account starts with: the threshold balance of a service
 * holding its whole storage quota (GP 0.7.2 section 9, a_t = B_S + B_I·items + B_L·bytes), so GP's
 * own `write` rule (FULL below the threshold) is what bounds its storage near the quota
 * (`max_service_storage_bytes` / `_items`; GP counts 34 extra octets per item).
 */
export function productServiceBalance(quota: StorageQuota): bigint {
  return thresholdBalance(FULL_ACCUMULATE_CONFIG, quota.maxItems, BigInt(quota.maxBytes), 0n);
}

/**
 * Accumulates the digests of a report's PVM services through the GP accumulate path
 * (`GpAccumulator`, docs/service-abi.md "GP accumulate state"): per owner (tenant) of those
 * services, in owner order, one GP accumulation of that owner's state at its next slot with the
 * report restricted to the owner's services, its accumulation rows written with the state (exactly
 * once; a redelivery that finds every row runs nothing). A service's GP account is created at its first accumulation from its `service`
 * row: code hash, gas minima, the code as its preimage, the balance of
 * {@link productServiceBalance}, footprint counted from its stored storage.
 *
 * The product already orders reports by their prerequisites (docs/architecture.md section 6), so the
 * report goes in without prerequisites or segment-root lookups: it is accumulated now, never left in
 * the ready queue behind a package the product accumulated outside this state.
 *
 * A wall-clock kill or an executor failure is counted per (report, service) as for Wasm services
 * (`recordSandboxFailure`, `max_accumulate_timeouts` / `max_sandbox_failures`); below the bound the
 * error is rethrown (the job retries), at the bound the services are recorded `timed_out` /
 * `sandbox_failed` and returned.
 * @returns the services whose accumulation row ended with a failing status
 * @throws the run's error below its bound; database errors
 */
export async function accumulatePvmServices(
  deps: PvmAccumulateDeps,
  job: { report: WorkReport; reportHash: string; packageHash: string; services: PvmService[]; priority: number },
): Promise<{ serviceId: number; status: AccumulationStatus }[]> {
  const owners = [...new Set(job.services.map((s) => s.owner))].sort();
  const failed: { serviceId: number; status: AccumulationStatus }[] = [];
  for (const owner of owners) failed.push(...(await accumulateOwner(deps, { ...job, services: job.services.filter((s) => s.owner === owner) }, owner)));
  return failed;
}

/** One owner's GP accumulation of the report (see {@link accumulatePvmServices}). */
async function accumulateOwner(
  deps: PvmAccumulateDeps,
  job: { report: WorkReport; reportHash: string; packageHash: string; services: PvmService[]; priority: number },
  owner: string,
): Promise<{ serviceId: number; status: AccumulationStatus }[]> {
  const { gp } = deps;
  const ids = new Set(job.services.map((s) => s.serviceId));
  // a redelivered job whose accumulation was applied: nothing to run (exactly once)
  if (await gp.state.accumulated(job.reportHash, [...ids])) {
    deps.logger.info({ reportHash: job.reportHash, services: [...ids], owner }, 'GP accumulate already applied; skipping');
    return [];
  }
  for (const s of job.services) {
    if (await gp.state.hasAccount(s.serviceId)) continue;
    const codeHash = fromHex(s.codeHash, 32);
    await gp.state.createAccount(
      owner,
      s.serviceId,
      {
        codeHash,
        balance: productServiceBalance(deps.storageQuota),
        minItemGas: s.minItemGas,
        minMemoGas: s.minMemoGas,
        bytes: 0n,
        depositOffset: 0n,
        items: 0,
        creationSlot: 0,
        lastAccumulationSlot: 0,
        parentService: 0,
      },
      new Map([[s.codeHash.replace(/^0x/, '').toLowerCase(), s.code]]),
    );
  }
  const report: WorkReport = {
    ...job.report,
    results: job.report.results.filter((d) => ids.has(d.service_id)),
    context: { ...job.report.context, prerequisites: [] },
    segment_root_lookup: [],
  };
  try {
    const r = await gp.accumulator.accumulate({
      owner,
      reports: [report],
      priority: job.priority,
      rows: (result) =>
        job.services.map((s) => ({
          reportHash: job.reportHash,
          packageHash: job.packageHash,
          serviceId: s.serviceId,
          status: 'ok' as const,
          gasUsed: result.statistics.find((x) => x.service === s.serviceId)?.gasUsed ?? 0n,
        })),
    });
    const gasUsed = r.result?.statistics.reduce((g, x) => g + x.gasUsed, 0n) ?? 0n;
    deps.metrics.gasUsed.inc({ phase: 'accumulate' }, Number(gasUsed));
    deps.logger.info({ reportHash: job.reportHash, services: [...ids], owner, applied: r.status === 'applied', gasUsed: `${gasUsed}` }, 'GP accumulate');
    for (const l of r.logs) deps.logger.debug({ reportHash: job.reportHash, serviceId: l.service, lines: l.lines }, 'accumulate guest log');
    return [];
  } catch (err) {
    if (err instanceof GpStateLimitError) {
      // deterministic: the same state and report are refused on every try, so the package fails now
      await gp.state.recordWithoutState(
        job.services.map((s) => ({
          reportHash: job.reportHash,
          packageHash: job.packageHash,
          serviceId: s.serviceId,
          status: 'storage_over_limit',
          gasUsed: 0n,
        })),
      );
      deps.logger.error(
        { reportHash: job.reportHash, services: [...ids], owner, code: err.code, error: err.message },
        'GP accumulate refused; nothing written',
      );
      return job.services.map((s) => ({ serviceId: s.serviceId, status: 'storage_over_limit' as const }));
    }
    const kind = err instanceof GpAccumulateWallClockError ? 'wall_clock' : sandboxFailureKind(err);
    if (kind === undefined) throw err;
    const maxFailures = kind === 'wall_clock' ? deps.maxAccumulateTimeouts : deps.maxSandboxFailures;
    const failed: { serviceId: number; status: AccumulationStatus }[] = [];
    let final = true;
    for (const s of job.services) {
      const counted = await deps.accumulations.recordSandboxFailure({
        reportHash: job.reportHash,
        packageHash: job.packageHash,
        serviceId: s.serviceId,
        kind,
        maxFailures,
        gasUsed: 0n,
        error: (err as Error).message,
      });
      final &&= counted.final;
      if (counted.final && counted.status !== undefined) failed.push({ serviceId: s.serviceId, status: counted.status });
    }
    deps.metrics.sandboxFailures.inc({ phase: 'accumulate', kind, outcome: final ? 'final' : 'retry' });
    deps.logger.warn(
      { reportHash: job.reportHash, services: [...ids], kind, error: (err as Error).message, final },
      'GP accumulate failed (not a guest result)',
    );
    if (!final) throw err;
    return failed;
  }
}
