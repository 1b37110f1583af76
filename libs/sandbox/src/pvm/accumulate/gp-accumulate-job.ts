/**
 * The GP accumulation as an executor job (docs/service-abi.md, "GP accumulate state"): the product's
 * PVM accumulate path (apps/accumulate-worker, `GpAccumulator`) loads the partial state from
 * PostgreSQL, sends it here with the reports, slot and chain spec, and writes back what
 * `accumulateStf` (accumulate-stf.ts, GP 0.7.2 section 12) returns. Guest code thus runs in an
 * executor's guest thread like every other job, never on a worker's event loop.
 */
import type { WorkReport } from '@jam/domain';
import { HOST_FULL, HOST_WHAT, MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES, MAX_WRITE_SET_BYTES, MAX_WRITE_SET_KEYS } from '../../host-abi';
import type { StorageQuota } from '../../sandbox.types';
import { finishPvmLogs } from '../pvm-log';
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
  /**
   * The product's limits (absent for the conformance vectors): every invocation's `write` answers
   * as the Wasm `write` does past the storage quota (bytes of keys + values, items, of the
   * accumulating service), MAX_WRITE_SET_BYTES / MAX_WRITE_SET_KEYS of the invocation's writes and
   * MAX_STORAGE_VALUE_BYTES (FULL), or MAX_STORAGE_KEY_BYTES (WHAT); and `log` lines are captured.
   */
  product?: { storageQuota: StorageQuota };
}

/** Log lines one service wrote over a GP accumulation (capped, escaped as the Wasm `log`). */
export interface GpAccumulateLog {
  service: number;
  lines: string[];
}

/**
 * What the executor answers: the STF's result with the captured log lines (only with `product`),
 * or `timedOut` when the pool's wall clock killed it.
 */
export type GpAccumulateOutcome = { timedOut?: undefined; result: AccumulateStfResult; logs?: GpAccumulateLog[] } | { timedOut: true };

/**
 * The product's `write` limit of one invocation over `storage` (keys lower-case hex without `0x`):
 * the rules of the Wasm `write` and the one-account job (docs/service-abi.md, "Write-set cap",
 * "Storage quota"): a key over MAX_STORAGE_KEY_BYTES gets WHAT; a value over
 * MAX_STORAGE_VALUE_BYTES, a write-set over MAX_WRITE_SET_BYTES (keys + latest values) or
 * MAX_WRITE_SET_KEYS, or a write that grows the footprint (bytes of keys + values, items) past the
 * quota gets FULL; shrinking writes always pass. Returns null to let the write happen.
 * @param written the write-set so far, filled as writes pass (key hex -> value, null = deleted)
 */
export function productWriteLimit(
  storage: ReadonlyMap<string, Uint8Array>,
  quota: StorageQuota,
  written: Map<string, Uint8Array | null> = new Map(),
): (key: Uint8Array, value: Uint8Array) => bigint | null {
  let footBytes = 0;
  for (const [k, v] of storage) footBytes += k.length / 2 + v.length;
  let footItems = storage.size;
  let setBytes = 0;
  return (key, value) => {
    if (key.length > MAX_STORAGE_KEY_BYTES) return HOST_WHAT;
    if (value.length > MAX_STORAGE_VALUE_BYTES) return HOST_FULL;
    const k = Buffer.from(key.buffer, key.byteOffset, key.length).toString('hex');
    const inSet = written.has(k);
    const pending = written.get(k);
    const bytesAfter = setBytes - (inSet ? key.length + (pending?.length ?? 0) : 0) + key.length + value.length;
    if (bytesAfter > MAX_WRITE_SET_BYTES || written.size + (inSet ? 0 : 1) > MAX_WRITE_SET_KEYS) return HOST_FULL;
    const prev = inSet ? pending : storage.get(k);
    const present = prev !== undefined && prev !== null;
    const bytes = footBytes - (present ? key.length + prev.length : 0) + (value.length === 0 ? 0 : key.length + value.length);
    const items = footItems - (present ? 1 : 0) + (value.length === 0 ? 0 : 1);
    if (bytes > footBytes && (bytes > quota.maxBytes || items > quota.maxItems)) return HOST_FULL;
    written.set(k, value.length === 0 ? null : value);
    [footBytes, footItems, setBytes] = [bytes, items, bytesAfter];
    return null;
  };
}

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
  const chain = accumulateChainConfig(job.chain);
  const product = job.product;
  if (product === undefined) return { result: accumulateStf(chain, job.pre, job.slot, job.reports) };
  const logs = new Map<number, { logs: string[]; droppedLogs: number }>();
  const cfg: AccumulateChainConfig = { ...chain, embedder: { writeLimit: (_service, storage) => productWriteLimit(storage, product.storageQuota), logs } };
  const result = accumulateStf(cfg, job.pre, job.slot, job.reports);
  return { result, logs: [...logs].sort(([a], [b]) => a - b).map(([service, st]) => ({ service, lines: finishPvmLogs(st) })) };
}
