import type { EngineIdentity, WorkExecResult } from '@jam/domain';
import { COST_TABLE_VERSION } from './cost-table';
import type { TrapInfo } from './guest-trap';

/**
 * Identity of this engine. WARNING: the report hash covers it (docs/architecture.md section 6); bump
 * `version` whenever execution results or gas could change for the same code and input.
 * 0.5.0: accumulate's write-set is capped (`write` answers FULL past MAX_WRITE_SET_BYTES /
 * MAX_WRITE_SET_KEYS), and so is the service's storage footprint (`write` answers FULL when it
 * would grow the footprint past the job's `storageQuota`); gas unchanged, so the cost table stays
 * at v3 (docs/service-abi.md).
 * 0.6.0: cost table v4 (docs/gas.md): instantiation, `memory.grow` and bulk memory base costs,
 * host calls priced by measured work (registry in host-calls/), `read` answers NONE for keys over
 * MAX_STORAGE_KEY_BYTES; the validator caps globals and data segments.
 * 0.7.0: GP report hash (H(E(report)), this identity inside the report's auth_output,
 * libs/domain report-hash.ts); the `export` host call and `fetch` kind 3 (imported segments);
 * refine results follow GP's `bad_exports` rule (export_count) and share W_R with auth_output.
 * Cost table unchanged (v4): existing code uses the same gas.
 * 0.8.0: cost table v5 (docs/gas.md "Memory misses"): loads, stores and bulk memory pay a
 * surcharge by memory size when they switch to a 4 KiB page none of the last two accesses of
 * their kind touched (issue 7: random access over a large memory was 60-140x ordinary code per gas).
 * 0.8.1: cost table v5 with more unchecked accesses ("same base, same block" also takes a
 * `local.tee` address and a store with any pure value expression), so some accesses pay fewer
 * near surcharges than under 0.8.0; a cheaper miss check (same gas rule otherwise).
 * 0.8.2: GP 0.7.2's order for an item's result (section 14.4, I(p, j)): a run that ends
 * `out_of_gas`, `panic`, `bad_code` or `code_oversize` exports nothing, so an item declaring
 * exports is `bad_exports` (before: its own result). Gas and cost table unchanged.
 * 0.9.0: cost table v7, two changes (docs/gas.md "Hoisted checks" and "Changes in v7"). Loads and stores at an affine address of a
 * counted loop's induction variable pay for the loop's whole range of pages before the loop
 * instead of checking every iteration. And a grown page costs 65,536 and an initial
 * page beyond 16 costs 81,920 (first touch of fresh memory); executors compile with TurboFan
 * before the first job (`--no-liftoff`) and the validator caps loops (MAX_FUNCTION_LOOPS,
 * MAX_MODULE_LOOPS), so code with more loops that 0.8.1 ran is `bad_code` now.
 */
export const ENGINE_IDENTITY: EngineIdentity = Object.freeze({ name: 'jam-wasm-metered', version: '0.9.0', cost_table_version: COST_TABLE_VERSION });

/** Largest gas limit the engine honours; larger limits are clamped to it (gas, 2^63 - 1). */
export const MAX_GAS_LIMIT = (1n << 63n) - 1n;

/** One refine job: run `refine` of one work item. */
export interface RefineRequest {
  /** Blake2b-256 of `code`, 0x-prefixed lowercase hex; the executor verifies it when it first compiles the code. */
  codeHash: string;
  code: Uint8Array;
  serviceId: number;
  /** Index of the work item in its package. */
  itemIndex: number;
  payload: Uint8Array;
  /** Gas limit (gas); clamped to [0, MAX_GAS_LIMIT]. */
  gasLimit: bigint;
  /** Preimages `lookup` can see, by 0x-hex Blake2b-256 hash (the work item's extrinsics); the caller guarantees keys match. */
  preimages: Map<string, Uint8Array>;
  /** Package hash (0x-hex, 32 bytes): part of a PVM service's refine arguments (GP 0.7.2 H(p)); zero hash when absent. */
  packageHash?: string;
  /** The item's imported segments in import order, 4104 bytes each (`fetch` kind 3); absent = none. */
  imports?: Uint8Array[];
  /** Segments the package's earlier items export: the index `export` returns first (GP 0.7.2 export offset); absent = 0. */
  exportOffset?: number;
  /**
   * The encoded work package (GP E(p), the bytes whose hash is the package hash): what a PVM
   * service's `fetch` reads for the package, its parts and other items' payloads and summaries
   * (selectors 7-13). Absent = those selectors answer NONE (the Wasm ABI does not read it).
   */
  workPackage?: Uint8Array;
}

/** Result of a refine job. */
export interface RefineOutcome {
  result: WorkExecResult;
  /** gasLimit - remaining gas; equals gasLimit on out_of_gas and on timeout (gas). */
  gasUsed: bigint;
  /** Captured `log` lines, sanitized and capped (see docs/service-abi.md). */
  logs: string[];
  /** Where and why the guest trapped, when the result is `out_of_gas` or `panic`. Never part of a report's signed bytes. */
  trap?: TrapInfo;
  /**
   * Segments the item exported with `export`, 4104 bytes each, in order (also when the result is
   * not `ok`: the caller applies GP's rule, apps/refine-worker). Absent when the code never ran.
   */
  exports?: Uint8Array[];
  /** Set when the wall-clock backstop killed the executor; result is then `panic`. Not deterministic: never part of a report. */
  timedOut?: boolean;
  /** The engine that ran the code (absent when nothing ran: a timeout, or code no engine accepts); the report hash binds it (`reportEngineIdentity`). */
  engine?: EngineIdentity;
}

/** One accumulate operand: a work digest of an attested report. */
export interface AccumulateOperand {
  packageHash: string;
  payloadHash: string;
  result: WorkExecResult;
}

/**
 * Size of a service's storage: `bytes` = sum of key length + value length over every stored item
 * (bytes), `items` = number of stored keys. Our stand-in for GP 0.7.2's footprint (a_o, a_i),
 * without its per-item overhead constants.
 */
export interface StorageFootprint {
  bytes: number;
  items: number;
}

/**
 * Caps on a service's storage footprint for one accumulate job (GP 0.7.2 `write`: FULL when the
 * storage would exceed what the balance allows; the quota stands in for the balance). `write`
 * answers FULL when it would grow the footprint and leave it over either cap (docs/service-abi.md,
 * "Storage footprint quota"). A job parameter, like the gas limit: the outcome is determined by the
 * code, operands, storage snapshot and these limits. Non-negative safe integers.
 */
export interface StorageQuota {
  /** bytes (keys + values) */
  maxBytes: number;
  /** stored keys */
  maxItems: number;
}

/** One accumulate job: run `accumulate` of one service over its operands. */
export interface AccumulateRequest {
  codeHash: string;
  code: Uint8Array;
  serviceId: number;
  /** Gas limit (gas); clamped to [0, MAX_GAS_LIMIT]. */
  gasLimit: bigint;
  operands: AccumulateOperand[];
  /**
   * The service's current storage, by 0x-hex key. Read only: changes come back as `writes`.
   * At most MAX_STORAGE_SNAPSHOT_ITEMS keys and MAX_STORAGE_SNAPSHOT_BYTES of keys + values.
   */
  storage: Map<string, Uint8Array>;
  /** Footprint caps `write` enforces on `storage` overlaid with this job's writes. */
  storageQuota: StorageQuota;
}

/** Result of an accumulate job. */
export interface AccumulateOutcome {
  /** `ok` only when `accumulate` returned 0; a non-zero return, a trap or a timeout are `panic`. */
  status: 'ok' | 'out_of_gas' | 'panic';
  /** gas */
  gasUsed: bigint;
  /**
   * Final value of every key written, sorted by key bytes; `null` = deleted. Empty unless `ok`.
   * At most MAX_WRITE_SET_KEYS entries and MAX_WRITE_SET_BYTES of keys + values.
   */
  writes: { key: Uint8Array; value: Uint8Array | null }[];
  /** Captured `log` lines, sanitized and capped (see docs/service-abi.md). */
  logs: string[];
  /** Why the status is not `ok` (a trap, out of gas, or a non-zero return). */
  trap?: TrapInfo;
  timedOut?: boolean;
}

/**
 * Result of checking service code at registration in an executor (`SandboxPool.check`): the same
 * validation and metering a job does, then V8 compiles every function (executors run with
 * `--no-wasm-lazy-compilation`) and instantiates the module, under the executor's heap, stack and
 * wall clock. `valid: false` carries the exact reason, as `invalid_code` answers it (422).
 */
export type CodeCheckOutcome =
  | { valid: true }
  | {
      valid: false;
      /** Exact, stable text of the rule broken (docs/service-abi.md), or what the engine refused. */
      reason: string;
      /** Which WorkExecResult the same code gives at run time: `bad_code`, `bad_exports` or `code_oversize`. */
      category: 'code' | 'exports' | 'size';
      /** Set when the wall clock stopped the check (the executor was killed and replaced). */
      timedOut?: boolean;
    };
