/**
 * The state GP accumulation works on (GP 0.7.2 section 12 and appendix B.7, the partial state
 * `S`): service accounts (storage, preimages, preimage requests, balance, gas limits, footprint),
 * the privileges, the validator staging set and the authorizer queues; plus the chain constants
 * the accumulate rules read. Plain in-memory values: the STF (accumulate-stf.ts) copies what it
 * changes, so a caller's state is never modified.
 */
import { GP_MAX_PACKAGE_SIZE } from '@jam/domain';
import { HOST_NONE } from '../../host-abi';

/** GP 0.7.2 appendix B host-call result CORE (2^64 - 6): core index unknown. */
export const HOST_CORE = (1n << 64n) - 6n;
/** GP 0.7.2 appendix B host-call result CASH (2^64 - 7): balance too low. */
export const HOST_CASH = (1n << 64n) - 7n;
/** GP 0.7.2 appendix B host-call result LOW (2^64 - 8): gas limit too low. */
export const HOST_LOW = (1n << 64n) - 8n;
export { HOST_NONE };

/**
 * Chain constants accumulation reads (GP 0.7.2 appendix I.4.4), named after their GP symbols.
 * Gas in gas units, sizes in bytes, periods in timeslots, balances in balance units.
 */
export interface AccumulateChainConfig {
  /** `E`: epoch length = ready-queue and accumulated-history length (slots). */
  epochLength: number;
  /** `C`: number of cores. */
  cores: number;
  /** `V`: number of validators (designate reads V keys). */
  validators: number;
  /** `Q`: authorizer queue length (assign reads Q hashes). */
  authQueueSize: number;
  /** `G_T`: total accumulation gas per block. */
  totalAccumulateGas: bigint;
  /** `G_A`: accumulate gas per work report. */
  reportAccumulateGas: bigint;
  /** `D`: preimage expunge period (slots). */
  expungePeriod: number;
  /** `S`: minimum public service index. */
  minPublicServiceIndex: number;
  /** `B_S`, `B_I`, `B_L`: base deposit, deposit per item, deposit per octet. */
  baseDeposit: bigint;
  itemDeposit: bigint;
  byteDeposit: bigint;
  /** `W_C`: maximum service code size (bytes). */
  maxServiceCodeSize: number;
  /** The fetch selector 0 constants blob (GP 0.7.2 appendix B, `fetch`), encoded once per config. */
  constantsBlob: Uint8Array;
  /** What the product adds to every invocation (absent for the conformance vectors): {@link AccumulateEmbedder}. */
  embedder?: AccumulateEmbedder;
}

/**
 * The product's additions to GP accumulation (docs/service-abi.md, "GP accumulate state"), none of
 * which the conformance vectors use: an extra `write` limit per invocation (the storage quota,
 * write-set caps and value limit of the Wasm `write`) and the capture of JIP-1 `log` lines.
 */
export interface AccumulateEmbedder {
  /**
   * Called once per invocation of `service` with its storage before it runs (keys: lower-case hex
   * without `0x`); the returned function is the invocation's `AccumulateContext.writeLimit`.
   */
  writeLimit?: (service: number, storage: ReadonlyMap<string, Uint8Array>) => (key: Uint8Array, value: Uint8Array) => bigint | null;
  /** Log lines captured per service over the whole accumulation (MAX_LOG_LINES lines per service); filled as services log. */
  logs?: Map<number, { logs: string[]; droppedLogs: number }>;
}

/** `W_T`: transfer memo size (bytes), GP 0.7.2 appendix I.4.4. */
export const TRANSFER_MEMO_BYTES = 128;

function le(value: bigint | number, bytes: number): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/**
 * Encodes the fetch selector 0 blob: the protocol constants in GP 0.7.2 appendix B order
 * (B_I, B_L, B_S, C, D, E, G_A, G_I, G_R, G_T, H, I, J, K, L, N, O, P, Q, R, T, U, V, W_A, W_B,
 * W_C, W_E, W_M, W_P, W_R, W_T, W_X, Y), each fixed-width little-endian (E8 for balances and gas,
 * E2 or E4 for counts and sizes).
 */
function constantsBlob(c: Record<string, number | bigint>): Uint8Array {
  const f: [string, number][] = [
    ['B_I', 8], ['B_L', 8], ['B_S', 8], ['C', 2], ['D', 4], ['E', 4], ['G_A', 8], ['G_I', 8], ['G_R', 8], ['G_T', 8],
    ['H', 2], ['I', 2], ['J', 2], ['K', 2], ['L', 4], ['N', 2], ['O', 2], ['P', 2], ['Q', 2], ['R', 2], ['T', 2], ['U', 2],
    ['V', 2], ['W_A', 4], ['W_B', 4], ['W_C', 4], ['W_E', 4], ['W_M', 4], ['W_P', 4], ['W_R', 4], ['W_T', 4], ['W_X', 4], ['Y', 4],
  ]; // prettier-ignore
  return Uint8Array.from(f.flatMap(([k, n]) => le(c[k]!, n)));
}

const SHARED = {
  B_I: 10n,
  B_L: 1n,
  B_S: 100n,
  G_A: 10_000_000n,
  G_I: 50_000_000n,
  H: 8,
  I: 16,
  J: 8,
  O: 8,
  Q: 80,
  T: 128,
  U: 5,
  W_A: 64_000,
  W_B: GP_MAX_PACKAGE_SIZE,
  W_C: 4_000_000,
  W_M: 3_072,
  W_R: 48 * 1024,
  W_T: 128,
  W_X: 3_072,
};

function config(c: Record<string, number | bigint>): AccumulateChainConfig {
  return {
    epochLength: Number(c['E']),
    cores: Number(c['C']),
    validators: Number(c['V']),
    authQueueSize: Number(c['Q']),
    totalAccumulateGas: BigInt(c['G_T']!),
    reportAccumulateGas: BigInt(c['G_A']!),
    expungePeriod: Number(c['D']),
    minPublicServiceIndex: 1 << 16,
    baseDeposit: BigInt(c['B_S']!),
    itemDeposit: BigInt(c['B_I']!),
    byteDeposit: BigInt(c['B_L']!),
    maxServiceCodeSize: Number(c['W_C']),
    constantsBlob: constantsBlob(c),
  };
}

/** The "tiny" chain spec of the JAM conformance vectors (6 validators, 2 cores, 12-slot epochs). */
export const TINY_ACCUMULATE_CONFIG: AccumulateChainConfig = config({
  ...SHARED, C: 2, D: 32, E: 12, G_R: 1_000_000_000n, G_T: 20_000_000n, K: 3, L: 24, N: 3, P: 6, R: 4, V: 6, W_E: 4, W_P: 1_026, Y: 10,
}); // prettier-ignore

/** The full chain spec of GP 0.7.2 (1023 validators, 341 cores, 600-slot epochs). */
export const FULL_ACCUMULATE_CONFIG: AccumulateChainConfig = config({
  ...SHARED, C: 341, D: 19_200, E: 600, G_R: 5_000_000_000n, G_T: 3_500_000_000n, K: 16, L: 14_400, N: 2, P: 6, R: 10, V: 1_023, W_E: 684, W_P: 6, Y: 500,
}); // prettier-ignore

/** Service account metadata (GP 0.7.2 section 9: a_c, a_b, a_g, a_m, a_o, a_f, a_i, a_r, a_a, a_p). */
export interface ServiceInfo {
  /** `a_c`: code hash (32 bytes). */
  codeHash: Uint8Array;
  /** `a_b`: balance. */
  balance: bigint;
  /** `a_g`: minimum gas per accumulated work item. */
  minItemGas: bigint;
  /** `a_m`: minimum gas per deferred transfer (memo). */
  minMemoGas: bigint;
  /** `a_o`: footprint in octets: Σ storage (34 + |k| + |v|) + Σ requests (81 + z). */
  bytes: bigint;
  /** `a_f`: gratis storage offset (deposit offset). */
  depositOffset: bigint;
  /** `a_i`: footprint in items: |storage| + 2·|requests|. */
  items: number;
  /** `a_r`: creation slot. */
  creationSlot: number;
  /** `a_a`: most recent accumulation slot. */
  lastAccumulationSlot: number;
  /** `a_p`: parent service. */
  parentService: number;
}

/** A service account (GP 0.7.2 section 9). Maps are keyed by lower-case hex (no 0x). */
export interface ServiceAccount {
  info: ServiceInfo;
  /** `a_s`: storage, key (hex of the unhashed key the service uses) -> value. */
  storage: Map<string, Uint8Array>;
  /** `a_p`: preimages, hash hex -> blob. */
  preimages: Map<string, Uint8Array>;
  /** `a_l`: preimage requests, `requestKey(hash, length)` -> up to 3 timeslots. */
  requests: Map<string, number[]>;
}

/** Privileged services (GP 0.7.2 section 9: manager m, assigners a, delegator v, registrar r, always-accumulate z). */
export interface Privileges {
  manager: number;
  assigners: number[];
  delegator: number;
  registrar: number;
  /** `z`: service -> free gas, accumulated every block. */
  alwaysAccumulate: Map<number, bigint>;
}

/** The partial state `S` of GP 0.7.2 section 12: (d, i, q, m, a, v, r, z). */
export interface PartialState {
  accounts: Map<number, ServiceAccount>;
  privileges: Privileges;
  /** `i`: validator keys staged for the next epoch (336 bytes each); empty when not tracked. */
  stagingSet: Uint8Array[];
  /** `q`: authorizer queue per core (32-byte hashes); empty when not tracked. */
  authQueues: Uint8Array[][];
}

/** Map key of a preimage request: hash hex and length (bytes). */
export function requestKey(hash: Uint8Array, length: number | bigint): string {
  return `${Buffer.from(hash).toString('hex')}:${length}`;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * `a_t`, the threshold balance (GP 0.7.2 section 9): max(0, B_S + B_I·a_i + B_L·a_o − a_f).
 */
export function thresholdBalance(cfg: AccumulateChainConfig, items: number | bigint, bytes: bigint, depositOffset: bigint): bigint {
  const t = cfg.baseDeposit + cfg.itemDeposit * BigInt(items) + cfg.byteDeposit * bytes - depositOffset;
  return t > 0n ? t : 0n;
}

/** A copy of an account whose maps and info can be changed without touching the original. */
export function cloneAccount(a: ServiceAccount): ServiceAccount {
  return { info: { ...a.info }, storage: new Map(a.storage), preimages: new Map(a.preimages), requests: new Map([...a.requests].map(([k, v]) => [k, [...v]])) };
}

/** A copy of the partial state: accounts are shared until `ownAccount` copies one. */
export function clonePartialState(s: PartialState): PartialState {
  return {
    accounts: new Map(s.accounts),
    privileges: { ...s.privileges, assigners: [...s.privileges.assigners], alwaysAccumulate: new Map(s.privileges.alwaysAccumulate) },
    stagingSet: [...s.stagingSet],
    authQueues: s.authQueues.map((q) => [...q]),
  };
}
