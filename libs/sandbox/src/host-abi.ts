/**
 * Service ABI constants shared by the validator and the executor (docs/service-abi.md).
 * Result codes are GP 0.7.2 appendix B host-call results, as u64 carried in a Wasm i64.
 */

/** GP 0.7.2 appendix B: item does not exist (2^64 - 1). */
export const HOST_NONE = (1n << 64n) - 1n;
/** Name unknown / not allowed here (2^64 - 2). */
export const HOST_WHAT = (1n << 64n) - 2n;
/** Memory range outside the guest's memory (2^64 - 3). */
export const HOST_OOB = (1n << 64n) - 3n;
/** Index unknown (2^64 - 4). */
export const HOST_WHO = (1n << 64n) - 4n;
/** Storage full / value too large (2^64 - 5). */
export const HOST_FULL = (1n << 64n) - 5n;
/** Invalid argument (2^64 - 9). */
export const HOST_HUH = (1n << 64n) - 9n;
/** Success. */
export const HOST_OK = 0n;

/** GP 0.7.2 W_C: maximum service code size (bytes). */
export const MAX_SERVICE_CODE_BYTES = 4_000_000;
/** GP 0.7.2 W_R: maximum refine output size (bytes). */
export const MAX_REFINE_OUTPUT_BYTES = 48 * 1024;
/** Default cap on the guest's linear memory (64 KiB pages; 1024 pages = 64 MiB). */
export const DEFAULT_MEMORY_PAGES_CAP = 1024;
/** Longest storage key `write` accepts; longer keys get WHAT (bytes). */
export const MAX_STORAGE_KEY_BYTES = 256;
/** Largest storage value `write` accepts; larger values get FULL (bytes). */
export const MAX_STORAGE_VALUE_BYTES = 1024 * 1024;
/**
 * Cap on the size of one accumulate job's write-set (bytes): the sum, over every distinct key
 * written in the job, of the key's length plus its latest value's length (a deletion counts its
 * key only). A `write` that would take the sum above this gets FULL and changes nothing
 * (docs/service-abi.md, "Write-set cap"). Since engine 0.5.0.
 *
 * Why: the write-set lives in the executor's heap (EXECUTOR_HEAP_MB) and is copied to the relay
 * thread, over IPC and into one database transaction; without a cap a guest with a large gas
 * limit grew it until the executor crashed, which fails the job instead of giving a deterministic
 * result. 4 MiB (3 maximal values and change) keeps every copy far below the 256 MiB guest-thread
 * and 64 MiB relay heaps. Consensus-relevant: a different cap changes which writes succeed.
 */
export const MAX_WRITE_SET_BYTES = 4 * 1024 * 1024;
/**
 * Cap on the number of distinct keys in one accumulate job's write-set (keys, deleted keys
 * included). A `write` of a key not yet in the write-set that would exceed it gets FULL and
 * changes nothing. Since engine 0.5.0.
 *
 * Why: each entry also costs the host a fixed overhead that the byte cap does not see (a hex key
 * string of up to 514 characters, a map entry, typed-array objects, one database upsert). Measured
 * (Node 20, 256-byte keys): about 0.85 KiB of executor heap per entry while the job runs plus
 * 0.45 KiB in the returned writes, so 4096 entries hold about 5 MiB of heap besides the values, and
 * one accumulation makes at most 4096 row writes (the byte cap alone would allow 16,320 entries of
 * a 256-byte key and a 1-byte value, about 21 MiB of heap). Consensus-relevant like MAX_WRITE_SET_BYTES.
 */
export const MAX_WRITE_SET_KEYS = 4096;
/**
 * Largest storage snapshot (bytes: sum of key length + value length over every stored item) an
 * accumulate job may be given; `SandboxPool.accumulate` refuses a larger one with a RangeError, and
 * `max_service_storage_bytes` cannot be set above it. Not consensus-relevant: it bounds what the
 * host ships to an executor, not what a guest can do (that is the footprint quota, docs/service-abi.md).
 *
 * Why: the snapshot is held by the worker, serialized over IPC and copied into the relay and the
 * guest thread, about 4 copies in all. Measured (Node 20): a 256 MiB snapshot of 1 MiB values
 * reaches the guest in about 1 s, 1 GiB in about 10 s (the default wall clock).
 */
export const MAX_STORAGE_SNAPSHOT_BYTES = 256 * 1024 * 1024;
/**
 * Most stored items (keys) a storage snapshot given to an accumulate job may hold; larger ones are
 * refused like MAX_STORAGE_SNAPSHOT_BYTES, and `max_service_storage_items` cannot be set above it.
 *
 * Why: every key travels as a hex string of up to 514 characters that the executor's relay thread
 * (64 MiB heap) deserializes whole before passing it on. Measured (Node 20, 256-byte keys, 1-byte
 * values): 65,536 and 80,000 items arrive (about 0.6 and 0.8 s), 100,000 crash the executor (V8 out
 * of heap, SIGABRT), which would fail the job on every retry.
 */
export const MAX_STORAGE_SNAPSHOT_ITEMS = 65_536;
/** Most log lines kept per job; later lines are dropped and counted (lines). */
export const MAX_LOG_LINES = 64;
/** Longest log message kept; longer messages are cut (bytes). */
export const MAX_LOG_BYTES = 1024;

/** Name of the module every import must come from. */
export const HOST_MODULE = 'jam';

/** Wasm value type codes used in signatures. */
export const I32 = 0x7f;
export const I64 = 0x7e;

/** The host functions a service may import, their signatures and prices: host-calls/host-call.registry.ts (HOST_CALLS). */

/** Exact signatures of the entry points a service must export. */
export const ENTRY_POINT_SIGNATURES: Readonly<Record<string, { params: number[]; results: number[] }>> = {
  refine: { params: [I32, I32], results: [I64] },
  accumulate: { params: [I32], results: [I64] },
};

/**
 * Exports the instrumenter adds to read and set the (internal, unexported) gas counter:
 * `__jam_gas_get() -> i64` and `__jam_gas_set(i64)`. Services may not export names starting `__jam`.
 * The counter is not exported itself because V8 reaches exported mutable globals through an
 * indirection, which made metered code several times slower.
 */
export const GAS_GET_EXPORT = '__jam_gas_get';
export const GAS_SET_EXPORT = '__jam_gas_set';
