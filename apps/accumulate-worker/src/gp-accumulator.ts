import { decodeWorkReport, encodeWorkReport, type WorkReport } from '@jam/domain';
import type { GpAccumulationRow, GpStateLoadLimits, GpStateRepository, GpStateSnapshot } from '@jam/persistence';
import {
  accumulateChainConfig,
  type GpAccumulateLog,
  type StorageQuota,
  type AccumulateStfResult,
  type AccumulateStfState,
  type GpAccumulateJob,
  type GpAccumulateOutcome,
  type GpChainSpec,
} from '@jam/sandbox';

/** The sandbox call a {@link GpAccumulator} needs (`SandboxPool.gpAccumulate`). */
export interface GpAccumulateRunner {
  gpAccumulate(job: GpAccumulateJob, opts?: { priority?: number }): Promise<GpAccumulateOutcome>;
}

/** What {@link GpAccumulator} needs. */
export interface GpAccumulatorDeps {
  gpState: GpStateRepository;
  sandbox: GpAccumulateRunner;
  /** Chain constants accumulation uses (`full` in the product; `tiny` for the conformance vectors). */
  chain: GpChainSpec;
  /**
   * The product's limits (absent for the conformance vectors): `snapshot` bounds the state loaded
   * and sent to the executor (MAX_STORAGE_SNAPSHOT_ITEMS / _BYTES); `storageQuota` bounds every
   * service's `write` as the Wasm `write` does (with the write-set caps and the value limit), and
   * guest `log` lines are captured.
   */
  product?: { snapshot: GpStateLoadLimits; storageQuota: StorageQuota };
}

/** One GP accumulation to run: the newly available reports and its context. */
export interface GpAccumulateInput {
  /** The tenant (`service.owner`) whose GP state accumulates: only its accounts are loaded and seen. */
  owner: string;
  reports: WorkReport[];
  /** τ' (timeslot); default: the stored slot + 1 (the product counts one slot per accumulation). */
  slot?: number;
  /** η'_0 (32 bytes); default: the stored entropy. */
  entropy?: Uint8Array;
  /** `accumulation` rows to insert with the state (exactly once: `done` when one exists), from the STF's result. */
  rows?: (result: AccumulateStfResult) => GpAccumulationRow[];
  /** The package's fair-share priority in the executor pool's queue. */
  priority?: number;
}

/** Outcome of {@link GpAccumulator.accumulate}: `done` = the rows were already there (another delivery applied it). */
export interface GpAccumulateResult {
  status: 'applied' | 'done';
  result: AccumulateStfResult | null;
  /** Guest `log` lines per service (with `product` only; empty when `done`). */
  logs: GpAccumulateLog[];
}

/** The sandbox's wall clock killed a GP accumulation: not a deterministic result, nothing was written. */
export class GpAccumulateWallClockError extends Error {
  override name = 'GpAccumulateWallClockError';
}

/** Lost compare-and-sets before {@link GpAccumulator.accumulate} gives up (the job is retried). */
export const GP_ACCUMULATE_ATTEMPTS = 10;

/**
 * The product's GP accumulate path for PVM services (docs/service-abi.md, "GP accumulate state";
 * issue 9 item 4): loads one owner's (tenant's) GP partial state from PostgreSQL
 * (`GpStateRepository.load`, refused over the snapshot limits; other tenants' accounts are not in
 * it: docs/security.md "GP accumulate state per tenant"), runs the
 * GP 0.7.2 accumulation STF over it with the reports in a sandbox executor (`gpAccumulate`: ready
 * queue, Δ+, Δ*, Δ1, every accumulate host call, checkpoints, deferred transfers, history), and
 * writes the post-state back in one transaction, compare-and-set on the state version
 * (`GpStateRepository.apply`, the owner's version). The sandbox runs outside any lock; a lost compare-and-set runs
 * again on the new state (docs/architecture.md section 6).
 */
export class GpAccumulator {
  constructor(private readonly deps: GpAccumulatorDeps) {}

  /**
   * Runs one GP accumulation and applies it exactly once.
   * @throws GpStateLimitError `state_too_large` (the owner's state is over `product.snapshot`) or
   *   `service_id_taken` (a `new` picked an id that is not the owner's to take); nothing is written;
   * @throws GpAccumulateWallClockError when the executor's wall clock killed the run;
   *   SandboxExecutorError on executor crashes or engine faults; Error after
   *   GP_ACCUMULATE_ATTEMPTS lost compare-and-sets; database errors. Nothing is written then.
   */
  async accumulate(input: GpAccumulateInput): Promise<GpAccumulateResult> {
    const { deps } = this;
    const epochLength = accumulateChainConfig(deps.chain).epochLength;
    for (let attempt = 1; attempt <= GP_ACCUMULATE_ATTEMPTS; attempt++) {
      const pre = await deps.gpState.load(input.owner, epochLength, deps.product?.snapshot);
      const slot = input.slot ?? pre.slot + 1;
      const state = toStfState(pre, input.entropy ?? pre.entropy);
      const product = deps.product === undefined ? undefined : { storageQuota: deps.product.storageQuota };
      const outcome = await deps.sandbox.gpAccumulate({ chain: deps.chain, pre: state, slot, reports: input.reports, product }, { priority: input.priority });
      if (outcome.timedOut) throw new GpAccumulateWallClockError(`GP accumulation at slot ${slot} hit the sandbox wall-clock limit`);
      const r = outcome.result;
      const post = fromStfState(input.owner, r.state);
      const record = { outputRoot: r.root, outputs: r.outputs, statistics: r.statistics };
      const applied = await deps.gpState.apply(pre, post, record, input.rows?.(r) ?? []);
      if (applied === 'applied') return { status: 'applied', result: r, logs: outcome.logs ?? [] };
      if (applied === 'done') return { status: 'done', result: null, logs: [] };
    }
    throw new Error(`GP accumulation lost ${GP_ACCUMULATE_ATTEMPTS} compare-and-sets in a row; retrying the job`);
  }
}

/** The repository's snapshot as the STF's state (reports decoded; staging set and authorizer queues are not kept). */
export function toStfState(s: GpStateSnapshot, entropy: Uint8Array): AccumulateStfState {
  return {
    slot: s.slot,
    entropy,
    readyQueue: s.readyQueue.map((slot) => slot.map((r) => ({ report: decodeWorkReport(r.report), dependencies: r.dependencies }))),
    accumulated: s.accumulated,
    partial: { accounts: s.accounts, privileges: s.privileges, stagingSet: [], authQueues: [] },
  };
}

/** The STF's post-state as the repository writes it for `owner` (reports GP-encoded). */
export function fromStfState(owner: string, s: AccumulateStfState): Omit<GpStateSnapshot, 'version'> {
  return {
    owner,
    slot: s.slot,
    entropy: s.entropy,
    privileges: s.partial.privileges,
    accounts: s.partial.accounts,
    readyQueue: s.readyQueue.map((slot) => slot.map((r) => ({ report: encodeWorkReport(r.report), dependencies: r.dependencies }))),
    accumulated: s.accumulated,
  };
}
