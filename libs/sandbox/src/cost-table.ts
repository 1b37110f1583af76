/**
 * Gas cost table of the metered Wasm engine, version 3 (docs/gas.md).
 *
 * WARNING: every number here is consensus-relevant. The report hash covers the engine identity,
 * which carries COST_TABLE_VERSION (docs/architecture.md section 6): change any cost => bump the version.
 */
export const COST_TABLE_VERSION = 3;

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
/**
 * `memory.copy` / `memory.fill` charge 1 gas per this many bytes, rounded down, on top of the
 * instruction (bytes). 8 since cost table v3: at 64 a bulk fill bought about 8x more CPU time per
 * gas than ordinary instructions (an adversarial review filled 64 MiB per call and hit the
 * wall clock within G_R); at 8 both run at roughly 1.2e9 gas/s on the reference machine.
 */
export const BULK_BYTES_PER_GAS = 8;
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
