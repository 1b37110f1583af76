/**
 * Gas cost table of the metered Wasm engine, version 7 (docs/gas.md). Host call base prices live in
 * their modules (host-calls/*.host-call.ts) and are part of this table.
 *
 * WARNING: every number here is consensus-relevant. The report hash covers the engine identity,
 * which carries COST_TABLE_VERSION (docs/architecture.md section 6): change any cost => bump the version.
 */
export const COST_TABLE_VERSION = 7;

/** Gas per Wasm instruction not listed below (gas). */
export const GAS_PER_INSTRUCTION = 1n;
/** Gas of a direct `call` instruction, on top of the callee's own body (gas). */
export const GAS_CALL = 4n;
/** Gas of a `call_indirect` instruction (gas). */
export const GAS_CALL_INDIRECT = 8n;
/** Gas of a load or store instruction (gas). */
export const GAS_MEMORY_ACCESS = 2n;
/**
 * Gas of the loop-entry charge of one hoisted access (cost table v7, docs/gas.md "Hoisted checks"),
 * paid with the metering block that ends in the `loop` instruction, at every entry: about one gas
 * per Wasm instruction that charge runs (about 130 with the track helper, trips > 0), plus
 * GAS_HOISTED_PER_EXPRESSION_INSTRUCTION per instruction of the address expression (evaluated three
 * times). Without it, a loop entered often with few iterations would run that code unpaid.
 */
export const GAS_HOISTED_ENTRY = 128n;
/** Gas per instruction of a hoisted access's address expression, on top of GAS_HOISTED_ENTRY (gas). */
export const GAS_HOISTED_PER_EXPRESSION_INSTRUCTION = 3n;
/** Gas of integer division and remainder instructions (gas). */
export const GAS_DIV_REM = 4n;
/**
 * Host calls charge 1 gas per this many bytes they copy between guest memory and the host
 * (payload, preimage, storage value read, log message), rounded up (bytes). 4 since cost table v4
 * (was 64): a host copy of a large object streams through memory like `memory.copy`, which costs
 * the same (BULK_BYTES_PER_GAS); at 64 a `lookup` of a 32 MiB extrinsic ran at 21 ns per gas.
 */
export const HOST_COPY_BYTES_PER_GAS = 4;
/**
 * Gas per byte of a storage key `read` and `write` look up (gas). The host hex-encodes the key and
 * the storage map hashes and compares the string (cost table v4; at 4 gas per byte a loop
 * reading an absent 256-byte key ran at 1.5 ns per gas, 3.3x ordinary code).
 */
export const HOST_KEY_GAS_PER_BYTE = 8n;
/**
 * `write` charges 1 gas per this many value bytes, rounded up (bytes): the value is copied into a
 * new host buffer that stays in the write-set, travels to the worker and into the database, and
 * a replaced value becomes garbage (cost table v4; at 8 bytes per gas a loop rewriting a 1 MiB
 * value ran at 3.3 ns per gas, 7x ordinary code).
 */
export const HOST_WRITE_BYTES_PER_GAS = 2;
/**
 * Gas per Wasm page (64 KiB) requested by `memory.grow`, charged whether or not it succeeds (gas).
 * It buys the first touch of the page's 16 fresh 4 KiB pages too, which the kernel faults in and
 * zeroes on first access (1.2-4.3 µs each under load): at 16,384 (cost table v6) a grow to 1,024
 * pages and a fill of the 64 MiB ran 7.9-21.9x ordinary code per gas (docs/gas.md, "Changes in v7").
 */
export const GAS_PER_PAGE = 65536n;
/**
 * Gas of the `memory.grow` instruction itself, any delta (0 included), refused or not, on top of
 * GAS_PER_PAGE per requested page (gas). V8 grows memory in its runtime, about 1 µs per call even
 * for a delta of 0: at 1 gas a `memory.grow 0` loop ran at 170-204 ns per gas (cost table v4).
 */
export const GAS_MEMORY_GROW = 2000n;
/**
 * Gas per page the memory has when `memory.grow` runs, any delta, refused or not (gas). V8's grow
 * takes time proportional to the current size: a `memory.grow 0` on a 1,024-page memory took
 * about 100 µs against about 1 µs on a 1-page one (cost table v4).
 */
export const GAS_GROW_PER_MEMORY_PAGE = 256n;
/**
 * Gas of a `memory.copy` or `memory.fill` instruction itself, any length (0 included), on top of
 * the per-byte charge (gas). At 1 gas a loop of zero-length copies ran at 60 ns per gas (cost table v4).
 */
export const GAS_BULK_MEMORY = 300n;
/**
 * `memory.copy` / `memory.fill` charge 1 gas per this many bytes, rounded down, on top of
 * GAS_BULK_MEMORY (bytes). 4 since cost table v4 (v3: 8, v1-v2: 64): copies larger than the
 * caches run at memory bandwidth, a 16 MiB `memory.copy` at 2.6 ns per gas at 8 bytes per gas.
 */
export const BULK_BYTES_PER_GAS = 4;
/**
 * Deterministic call-depth limit (frames): active frames of *counted* functions (in a call-graph
 * cycle, in the table, or breaking a too-heavy acyclic chain; `planCallDepth`); entering one more
 * traps with `panic`. Uncounted frames are bounded statically (docs/gas.md step 5).
 */
export const MAX_CALL_DEPTH = 1024;
/** Per-function declared-locals limit (count). */
export const MAX_FUNCTION_LOCALS = 1024;
/**
 * Per-function frame bound: params + declared locals + maximum operand-stack height (values).
 * With it (and the chain bound on uncounted frames, `planCallDepth`), MAX_CALL_DEPTH counted
 * frames and the uncounted frames between them always fit EXECUTOR_STACK_MB, so the deterministic
 * depth limit is always reached before V8's own stack limit (docs/sandbox.md, "Call depth and the stack").
 */
export const MAX_FRAME_SLOTS = 2048;
/**
 * Per-frame allowance added to every frame's slots when bounding chains of uncounted frames
 * (slots): covers V8's fixed frame overhead (return address, frame pointer, instance) and what the
 * instrumentation adds to a frame (the counter parameter/result, depth and scratch locals,
 * operand-stack temporaries). Consensus-relevant:
 * it decides which functions count depth.
 */
export const FRAME_OVERHEAD_SLOTS = 64;
/** Native stack of the thread that runs guest code in an executor (MiB). */
export const EXECUTOR_STACK_MB = 64;

/**
 * Instantiation (cost table v4): every job instantiates the module afresh, and V8's work for that
 * grows with what the module declares. The engine charges it as gas before the entry point's first
 * instruction (`instantiationGas`, docs/gas.md "Instantiation"), and the validator caps each
 * quantity so the work stays small even when unpaid for (a job whose gas limit is below the charge
 * still instantiates, then ends out_of_gas at once).
 */
/** Gas per global the module defines (gas). 1,000 globals took about 0.34 ms to instantiate, 10,000 took 52 ms. */
export const GAS_PER_GLOBAL = 2048n;
/**
 * Most function types a service may declare (count). Checked before V8 sees the module: V8's
 * validation and compilation grow about quadratically with the number of distinct types (1,024
 * took 21 ms, 4,096 0.47 s, 16,384 6.4 s on the reference machine), and no gas pays for them
 * (registration on the gateway, compilation in every executor on a cache miss).
 */
export const MAX_TYPES = 1024;
/** Most globals a service may define (count); instantiation time grows faster than linearly past it. */
export const MAX_GLOBALS = 1024;
/** Gas per byte of active data segments, copied into memory at instantiation (gas). */
export const GAS_PER_DATA_BYTE = 1n;
/** Gas per data segment (gas): about 0.9 µs each to instantiate, measured with 4,096 one-byte segments. */
export const GAS_PER_DATA_SEGMENT = 1024n;
/** Most bytes of data segments a service may declare, all segments together (bytes). 1 MB took about 0.6 ms, 3.9 MB 46 ms. */
export const MAX_DATA_BYTES = 1024 * 1024;
/** Most data segments a service may declare (count). */
export const MAX_DATA_SEGMENTS = 4096;
/** Gas per funcref table element (the table's minimum) and per element-segment entry (gas). */
export const GAS_PER_TABLE_ELEMENT = 256n;
/**
 * Gas per initial memory page (64 KiB) the module declares beyond FREE_INITIAL_PAGES (gas): a 1,024-page initial memory cost
 * an executor about 50 ms per job on the loaded reference machine (3.1 ns per gas at 16,384; 32,768
 * in cost tables v4-v6), and its first touch costs what a grown page's does, so cost table v7 adds
 * the same 49,152 as GAS_PER_PAGE's rise (docs/gas.md, "Changes in v7").
 */
export const GAS_PER_INITIAL_PAGE = 81920n;
/**
 * Initial memory pages that cost no gas (pages): up to 1 MiB the instantiation time did not depend
 * on the memory size (1 and 16 pages measured the same), and most services declare 1-2 pages.
 */
export const FREE_INITIAL_PAGES = 16;

/**
 * Page size the memory-miss surcharge tracks (cost table v5, docs/gas.md "Memory misses"): an
 * access's page is its effective address shifted right by this many bits (4 KiB pages).
 */
export const MISS_PAGE_SHIFT = 12;

/** One tier of the memory-miss surcharge: applies while the memory has more than `abovePages` pages. */
export interface MissSurchargeTier {
  /** The tier applies when the memory's current size exceeds this many 64 KiB pages (pages). */
  abovePages: number;
  /** Gas of a switch to a page adjacent to the last tracked one (gas). */
  near: bigint;
  /** Gas of a switch to any other untracked page (gas). */
  far: bigint;
}

/**
 * Memory-miss surcharge by the memory's current size (cost table v5, docs/gas.md "Memory misses").
 * Loads and stores each keep the last two 4 KiB pages they touched; an access to neither pays
 * `near` (page adjacent to the most recent one) or `far`, from the highest tier whose
 * `abovePages` the memory exceeds (none: 0). Sequential code switches pages once per 4 KiB and
 * pays almost nothing; random access over a memory larger than the caches and the TLB reach pays
 * per access, about what the miss costs (calibration, docs/performance.md section 7).
 * v6 (adversarial review of v5): `near` over 48 pages 16 -> 64, because a dependent load on the
 * next (or previous) page at a random 64-byte line defeats the prefetchers and waits for DRAM like a
 * far miss (12-14x ordinary code per gas at 16, 4.3-4.6x at 64; docs/gas.md "Adversarial review of v5").
 * Ascending by `abovePages`.
 */
export const MISS_SURCHARGE_TIERS: readonly MissSurchargeTier[] = Object.freeze([
  { abovePages: 0, near: 1n, far: 4n },
  { abovePages: 4, near: 2n, far: 48n },
  { abovePages: 16, near: 8n, far: 160n },
  { abovePages: 48, near: 64n, far: 512n },
]);

/**
 * The `near` and `far` memory-miss surcharges (gas) of a memory of `pages` 64 KiB pages
 * (MISS_SURCHARGE_TIERS; 0 and 0 below the first tier).
 */
export function missSurcharge(pages: number): { near: bigint; far: bigint } {
  let out = { near: 0n, far: 0n };
  for (const t of MISS_SURCHARGE_TIERS) if (pages > t.abovePages) out = { near: t.near, far: t.far };
  return out;
}
