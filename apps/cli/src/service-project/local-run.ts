import { blake2b256, initHashing, toHex, type WorkExecResult } from '@jam/domain';
import { SandboxPool, type AccumulateOutcome, type RefineOutcome } from '@jam/sandbox';
import { CliFailure } from '../cli.context';

/** Limits of a local run, as a worker applies them (`localRunLimits` of @jam/config). */
export interface LocalRunLimits {
  /** ms */
  wallClockMs: number;
  /** bytes */
  maxServiceStorageBytes: number;
  /** keys */
  maxServiceStorageItems: number;
}

/** One local run: the module, one work item's payload and gas, and the service's storage before it. */
export interface LocalRunInput {
  code: Uint8Array;
  payload: Uint8Array;
  /** gas */
  refineGas: bigint;
  /** gas */
  accumulateGas: bigint;
  /** The service's storage by `0x` hex key. */
  storage: Map<string, Uint8Array>;
  limits: LocalRunLimits;
}

/** What `runLocally` gives: the code hash and both phases' outcomes as the sandbox returned them. */
export interface LocalRunResult {
  codeHash: string;
  refine: RefineOutcome;
  accumulate: AccumulateOutcome;
}

/** The work item's service id in a local run (the guest cannot see it). */
const LOCAL_SERVICE_ID = 0;

/**
 * Runs the code as the pipeline would for a one-item package, through the same engine: the
 * registration check (`SandboxPool.check`, what `POST /jam/services` does), then `refine` of item
 * 0 with the payload, then `accumulate` with that one work digest as its operand (whatever its
 * result: the service sees it through `fetch` kinds 1 and 2), on the given storage and the
 * storage quota of the limits. One executor process, started and closed here.
 * @throws CliFailure `invalid_code` with the validator's reason when the code would be refused at
 *   registration; `sandbox_failure` when an executor fails or the wall clock kills it (not a
 *   guest result, as on a worker)
 */
export async function runLocally(input: LocalRunInput): Promise<LocalRunResult> {
  await initHashing();
  const codeHash = toHex(blake2b256(input.code));
  const pool = new SandboxPool({ size: 1, expressSize: 0, wallClockMs: input.limits.wallClockMs });
  await pool.start();
  try {
    const check = await pool.check(codeHash, input.code);
    if (!check.valid) throw new CliFailure('invalid_code', `the server would refuse this code (${check.category}): ${check.reason}`);
    const refine = await pool.refine({
      codeHash,
      code: input.code,
      serviceId: LOCAL_SERVICE_ID,
      itemIndex: 0,
      payload: input.payload,
      gasLimit: input.refineGas,
      preimages: new Map(),
    });
    if (refine.timedOut)
      throw new CliFailure(
        'sandbox_failure',
        `refine hit the ${input.limits.wallClockMs} ms wall clock (sandbox_wall_clock_ms); a worker would retry it, never sign it`,
      );
    const result: WorkExecResult = refine.result;
    const accumulate = await pool.accumulate({
      codeHash,
      code: input.code,
      serviceId: LOCAL_SERVICE_ID,
      gasLimit: input.accumulateGas,
      operands: [{ packageHash: toHex(new Uint8Array(32)), payloadHash: toHex(blake2b256(input.payload)), result }],
      storage: input.storage,
      storageQuota: { maxBytes: input.limits.maxServiceStorageBytes, maxItems: input.limits.maxServiceStorageItems },
    });
    if (accumulate.timedOut) throw new CliFailure('sandbox_failure', `accumulate hit the ${input.limits.wallClockMs} ms wall clock (sandbox_wall_clock_ms)`);
    return { codeHash, refine, accumulate };
  } catch (err) {
    if (err instanceof CliFailure) throw err;
    throw new CliFailure('sandbox_failure', `the sandbox failed (not a guest result): ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await pool.close();
  }
}
