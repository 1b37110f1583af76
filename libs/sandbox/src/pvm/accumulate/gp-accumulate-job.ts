/**
 * The GP accumulation as an executor job (docs/service-abi.md, "GP accumulate state"): the product's
 * PVM accumulate path (apps/accumulate-worker, `GpAccumulator`) loads the partial state from
 * PostgreSQL, sends it here with the reports, slot and chain spec, and writes back what
 * `accumulateStf` (accumulate-stf.ts, GP 0.7.2 section 12) returns. Guest code thus runs in an
 * executor's guest thread like every other job, never on a worker's event loop.
 */
import type { WorkReport } from '@jam/domain';
import { FULL_ACCUMULATE_CONFIG, TINY_ACCUMULATE_CONFIG, type AccumulateChainConfig } from './accumulate-state';
import { accumulateStf, initAccumulateHashing, type AccumulateStfResult, type AccumulateStfState } from './accumulate-stf';

/** The chain specs accumulation knows (GP 0.7.2 appendix I.4.4): `full`, or `tiny` of the JAM conformance vectors. */
export type GpChainSpec = 'full' | 'tiny';

/** The chain constants of a chain spec. */
export function accumulateChainConfig(spec: GpChainSpec): AccumulateChainConfig {
  return spec === 'tiny' ? TINY_ACCUMULATE_CONFIG : FULL_ACCUMULATE_CONFIG;
}

/** One GP accumulation: the pre-state, the newly available reports, the timeslot τ' and the chain spec. */
export interface GpAccumulateJob {
  chain: GpChainSpec;
  pre: AccumulateStfState;
  /** τ' (timeslot). */
  slot: number;
  reports: WorkReport[];
}

/** What the executor answers: the STF's result, or `timedOut` when the pool's wall clock killed it. */
export type GpAccumulateOutcome = { timedOut?: undefined; result: AccumulateStfResult } | { timedOut: true };

/**
 * Gas bound of one GP accumulation: max(G_T, G_A·C + Σ free gas of the always-accumulate
 * services) (GP 0.7.2 eq. 12.25), what `accumulateStf` may spend; the pool orders and routes by it.
 */
export function gpAccumulateGas(job: GpAccumulateJob): bigint {
  const cfg = accumulateChainConfig(job.chain);
  const free = [...job.pre.partial.privileges.alwaysAccumulate.values()].reduce((s, g) => s + g, 0n);
  const minimum = cfg.reportAccumulateGas * BigInt(cfg.cores) + free;
  return cfg.totalAccumulateGas > minimum ? cfg.totalAccumulateGas : minimum;
}

/**
 * Runs the job in this thread (the executor's guest thread).
 * @throws only on an engine fault of the PVM interpreter
 */
export async function runGpAccumulateJob(job: GpAccumulateJob): Promise<GpAccumulateOutcome> {
  await initAccumulateHashing();
  return { result: accumulateStf(accumulateChainConfig(job.chain), job.pre, job.slot, job.reports) };
}
