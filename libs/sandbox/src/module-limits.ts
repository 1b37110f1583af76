/**
 * Limits that keep every module accepted at registration compilable and runnable inside an
 * executor (docs/sandbox.md, "Limits"). Not consensus-relevant (they decide which modules are
 * accepted, never a result or gas), but lowering one can refuse code that was registered before.
 *
 * Why each exists (measured on Node 20.20, x86-64, docs/sandbox.md "Registration check"):
 * validation and metering hold every instruction of the module as a JS object in the executor's
 * guest-thread heap (about 40-60 bytes per instruction), and V8 refuses functions over 7,654,321
 * bytes (the JS API's implementation limit, the same in every browser engine), and TurboFan, which
 * compiles every function before the first job (`--no-liftoff`, engine 0.9.0), takes time that grows
 * with the loops of a module and quadratically with their nesting.
 */

/**
 * Old-space heap of an executor process's isolates (MiB). WARNING: `--max-old-space-size` is a
 * process-wide V8 flag that overrides the guest thread's `resourceLimits.maxOldGenerationSizeMb`
 * (measured: with the flag at 64 a worker asking for 256 got 64 + 48 MiB young), so it is the one
 * number that bounds both the relay thread and the guest thread; the pool passes it in `execArgv`.
 */
export const EXECUTOR_HEAP_MB = 256;

/**
 * Most instructions in all function bodies of a module (count). Validation plus metering peak at
 * about 60 bytes of heap per instruction (2,000,000 one-byte `nop`s: under 128 MiB; 1,520,000
 * `local.get`/`drop`: over 64 MiB), so this keeps the worst case near half of EXECUTOR_HEAP_MB.
 * A 4 MB module of real code has roughly 1.5-2 M instructions.
 */
export const MAX_MODULE_INSTRUCTIONS = 2_000_000;

/**
 * Deepest nesting of `block`, `loop` and `if` inside one function (levels, the function body
 * itself not counted). Compilers nest one `block` per `switch` target (br_table lowering), so
 * this is generous; 2,048 nested blocks compile in well under 0.1 s with either V8 tier.
 */
export const MAX_CONTROL_DEPTH = 2048;

/**
 * Deepest nesting of `loop`s inside one function (levels; blocks and ifs between them do not
 * count). TurboFan, which compiles every function before the first job (`--no-liftoff`),
 * takes time and memory quadratic in loop nesting: 512 nested loops 0.24 s / 78 MB RSS, 1,024
 * 0.9 s / 138 MB, 2,048 4.1 s / 351 MB (`--no-liftoff`, loaded 2-core machine). Real code
 * rarely nests loops ten deep.
 */
export const MAX_LOOP_DEPTH = 256;

/**
 * Most `loop`s in one function body (count, nested or not). The executors compile every function
 * with TurboFan before the first job (`--no-liftoff`, docs/sandbox.md "Executor flags"), and
 * TurboFan's time per function grows faster than linearly with the loops in it: 16,000 loops in
 * one function compiled in 8-14 s, 16 functions of 1,000 loops in 4-10 s, 64 functions of 250
 * loops in 1-5 s, 16,000 one-loop functions in 0.6-1.2 s (loaded 2-core machine, docs/performance.md
 * section 7), over the 10 s wall clock of a job and of the registration check for the first two.
 * The example services have at most 12 loops in a module.
 */
export const MAX_FUNCTION_LOOPS = 256;

/**
 * Most `loop`s in all function bodies of a module together (count): with MAX_FUNCTION_LOOPS it
 * bounds TurboFan's compile time on a cache miss (issue 7, docs/performance.md section 7: 99,000
 * functions of 2 nested loops took 22 s, 16,000 one-loop functions 0.6-2.2 s).
 */
export const MAX_MODULE_LOOPS = 16_000;

/**
 * Largest function body after metering (bytes). V8 refuses bodies over 7,654,321 bytes (JS API
 * implementation limits); metering adds a charge per straight-line block, which more than tripled
 * 1.2 M nested `block`s (3.6 MB to 12 MB). Checked on the metered body, with a margin under V8's.
 */
export const MAX_METERED_FUNCTION_BYTES = 6_000_000;

/**
 * Most functions a module may define (count). Executors compile every function with TurboFan
 * before the first job (`--no-liftoff`, engine 0.9.0), at a fixed cost per function: 99,000 small
 * functions took 12-21 s to check under load, past `sandbox_wall_clock_ms`, and 16,000 took 2.5-5.4 s,
 * the same bound as the loop caps (docs/performance.md section 7). V8 itself allows 1,000,000.
 */
export const MAX_DEFINED_FUNCTIONS = 16_000;
