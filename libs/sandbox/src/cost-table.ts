/**
 * Gas cost table of the metered Wasm engine, version 1 (docs/gas.md).
 *
 * WARNING: every number here is consensus-relevant. The report hash covers the engine identity,
 * which carries COST_TABLE_VERSION (DESIGN.md section 6): change any cost => bump the version.
 */
export const COST_TABLE_VERSION = 1;

/** Gas per Wasm instruction not listed below (gas). */
export const GAS_PER_INSTRUCTION = 1n;
/** Gas of a direct `call` instruction, on top of the callee's own body (gas). */
export const GAS_CALL = 4n;
/** Gas of a `call_indirect` instruction (gas). */
export const GAS_CALL_INDIRECT = 8n;
/** Gas of a load or store instruction (gas). */
export const GAS_MEMORY_ACCESS = 2n;
/** Gas of integer division and remainder instructions (gas). */
export const GAS_DIV_REM = 4n;
/** Fixed gas charged by every host call before it does any work (gas). */
export const GAS_HOST_CALL = 100n;
/** Host calls also charge 1 gas per this many bytes they copy, rounded up (bytes). */
export const HOST_BYTES_PER_GAS = 64;
/** Gas per Wasm page (64 KiB) requested by `memory.grow`, charged whether or not it succeeds (gas). */
export const GAS_PER_PAGE = 4096n;
/** `memory.copy` / `memory.fill` charge 1 gas per this many bytes, rounded down, on top of the instruction (bytes). */
export const BULK_BYTES_PER_GAS = 64;
/** Deterministic call-depth limit: nested guest calls beyond this trap with `panic` (frames). */
export const MAX_CALL_DEPTH = 1024;
/** Per-function declared-locals limit (count). */
export const MAX_FUNCTION_LOCALS = 1024;
/**
 * Per-function frame bound: params + declared locals + maximum operand-stack height (values).
 * With it, MAX_CALL_DEPTH frames always fit EXECUTOR_STACK_MB, so the deterministic depth limit
 * is always reached before V8's own stack limit (docs/sandbox.md, "Call depth and the stack").
 */
export const MAX_FRAME_SLOTS = 2048;
/** Native stack of the thread that runs guest code in an executor (MiB). */
export const EXECUTOR_STACK_MB = 64;
