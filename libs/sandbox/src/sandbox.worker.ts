/**
 * Guest thread of an executor process (started by executor.process.ts with a fixed native stack).
 * Receives only bytes and numbers (code, payload, preimages, storage snapshot, limits), never
 * secrets. Protocol: `WorkerRequest` in, `WorkerResponse` out, one job at a time. `code` may be
 * omitted when the pool believes this executor already compiled `codeHash`; if it has not (evicted
 * from the cache), the answer is `needCode` and the pool resends the job with the code.
 */
import { parentPort } from 'node:worker_threads';
import { blake2b } from 'hash-wasm';
import { DomainError, type WorkExecResult } from '@jam/domain';
import { codeRejectionResult } from './code-rejection';
import { meterServiceCode } from './service-code.validator';
import { executeAccumulate, executeRefine, type AccumulateJob, type RefineJob } from './service.executor';
import type { AccumulateOutcome, CodeCheckOutcome, RefineOutcome } from './sandbox.types';
import { HOST_MODULE } from './host-abi';
import { HOST_CALLS } from './host-calls/host-call.registry';
import type { ExecutorReady } from './executor.process';
import { detectCodeFormat, engineIdentityOf } from './code-format';
import { executePvmAccumulate, executePvmRefine, preparePvmService, type PvmServiceCode } from './pvm/pvm.executor';
import { pvmInterpreter } from './pvm/pvm.machine';
import { compileAnanAs } from './pvm/anan-as.binding';
import { runGpAccumulateJob, type GpAccumulateJob, type GpAccumulateOutcome } from './pvm/accumulate/gp-accumulate-job';

export type WorkerRequest =
  | { id: number; type: 'refine'; codeHash: string; code?: Uint8Array; memoryPagesCap: number; job: RefineJob }
  | { id: number; type: 'accumulate'; codeHash: string; code?: Uint8Array; memoryPagesCap: number; job: AccumulateJob }
  | { id: number; type: 'check'; codeHash: string; code: Uint8Array; memoryPagesCap: number }
  | { id: number; type: 'gp-accumulate'; job: GpAccumulateJob };

export type WorkerResponse =
  | { id: number; ok: true; outcome: RefineOutcome | AccumulateOutcome | CodeCheckOutcome | GpAccumulateOutcome }
  | { id: number; ok: false; needCode: true }
  | { id: number; ok: false; error: string };

/** The job came without code and this executor has not compiled it (any more). */
const NEED_CODE = Symbol('needCode');

/** Compiled modules, decoded PVM services (or the rejection result) by code hash and memory cap. */
type Prepared = WebAssembly.Module | PvmServiceCode | WorkExecResult;
const cache = new Map<string, Prepared>();
const CACHE_ENTRIES = 64;

async function compiled(codeHash: string, code: Uint8Array | undefined, memoryPagesCap: number): Promise<Prepared | typeof NEED_CODE> {
  const key = `${codeHash}/${memoryPagesCap}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  if (code === undefined) return NEED_CODE;
  const actual = '0x' + (await blake2b(code, 256));
  if (actual !== codeHash.toLowerCase()) throw new Error(`code hash mismatch: request says ${codeHash}, code hashes to ${actual}`);
  let entry: Prepared;
  try {
    // the engine follows from the code bytes (code-format.ts), the same function registration used
    entry = detectCodeFormat(code) === 'jam-pvm' ? preparePvmService(code) : new WebAssembly.Module(meterServiceCode(code, { memoryPagesCap }));
  } catch (e) {
    // only the validator's verdict is a result; anything else rethrows (an executor failure)
    entry = codeRejectionResult(e);
  }
  cache.set(key, entry);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return entry;
}

/**
 * Registration check: what the first job on this code would do (validate, meter, compile), with
 * every function compiled now (the process runs with `--no-wasm-lazy-compilation`, so `new
 * WebAssembly.Module` compiles them all instead of on first call), then one instantiation with
 * host functions that are never called (a module has no start function). Nothing is cached: a
 * check never warms this executor for jobs.
 */
function check(code: Uint8Array, memoryPagesCap: number): CodeCheckOutcome {
  if (detectCodeFormat(code) === 'jam-pvm') return checkPvm(code);
  let metered: Uint8Array;
  try {
    metered = meterServiceCode(code, { memoryPagesCap });
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== 'invalid_code') throw e;
    const category = e.details?.['category'];
    return { valid: false, reason: e.message, category: category === 'exports' || category === 'size' ? category : 'code' };
  }
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(metered);
  } catch (e) {
    // V8's own limits (function size, locals, ...) beyond ours: the same code could never run
    return { valid: false, reason: `the engine cannot compile the metered module: ${e instanceof Error ? e.message : String(e)}`, category: 'code' };
  }
  const never = () => {
    throw new Error('host function called during the registration check');
  };
  const jam = Object.fromEntries(Object.keys(HOST_CALLS).map((name) => [name, never]));
  try {
    new WebAssembly.Instance(mod, { [HOST_MODULE]: jam });
  } catch (e) {
    return { valid: false, reason: `the engine cannot instantiate the metered module: ${e instanceof Error ? e.message : String(e)}`, category: 'code' };
  }
  return { valid: true };
}

/**
 * Registration check of a JAM service blob: the PVM engine's validation (`preparePvmService`),
 * then the interpreter loads it at the refine entry as a job would (program decoded, memory laid
 * out, jump table and code analysed), running no instruction.
 */
function checkPvm(code: Uint8Array): CodeCheckOutcome {
  try {
    preparePvmService(code);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== 'invalid_code') throw e;
    return { valid: false, reason: e.message, category: e.details?.['category'] === 'size' ? 'size' : 'code' };
  }
  try {
    pvmInterpreter().resetStandard(code, 0, 0n, new Uint8Array(0), true);
  } catch (e) {
    return { valid: false, reason: `the PVM engine cannot load the program: ${e instanceof Error ? e.message : String(e)}`, category: 'code' };
  }
  return { valid: true };
}

function isPvm(p: Prepared): p is PvmServiceCode {
  return (p as PvmServiceCode).engine === 'pvm';
}

async function handle(req: WorkerRequest): Promise<RefineOutcome | AccumulateOutcome | CodeCheckOutcome | GpAccumulateOutcome | typeof NEED_CODE> {
  if (req.type === 'gp-accumulate') return runGpAccumulateJob(req.job);
  if (req.type === 'check') {
    const actual = '0x' + (await blake2b(req.code, 256));
    if (actual !== req.codeHash.toLowerCase()) throw new Error(`code hash mismatch: request says ${req.codeHash}, code hashes to ${actual}`);
    return check(req.code, req.memoryPagesCap);
  }
  const mod = await compiled(req.codeHash, req.code, req.memoryPagesCap);
  if (mod === NEED_CODE) return NEED_CODE;
  if (req.type === 'refine') {
    if (mod instanceof WebAssembly.Module) return { ...executeRefine(mod, req.job), engine: engineIdentityOf('wasm') };
    if (isPvm(mod)) return { ...executePvmRefine(mod, req.job), engine: engineIdentityOf('jam-pvm') };
    return { result: mod, gasUsed: 0n, logs: [] };
  }
  if (mod instanceof WebAssembly.Module) return executeAccumulate(mod, req.job);
  if (isPvm(mod)) return executePvmAccumulate(mod, req.job);
  return { status: 'panic', gasUsed: 0n, writes: [], logs: [] };
}

const port = parentPort;
if (port !== null) {
  port.on('message', (req: WorkerRequest) => {
    handle(req).then(
      (outcome) =>
        port.postMessage((outcome === NEED_CODE ? { id: req.id, ok: false, needCode: true } : { id: req.id, ok: true, outcome }) satisfies WorkerResponse),
      (e: unknown) => port.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies WorkerResponse),
    );
  });
  // the PVM interpreter (anan-as's .wasm file) is read and compiled now, not at the first PVM job
  compileAnanAs();
  // every import above has been evaluated (CommonJS): nothing is loaded from disk after this
  port.postMessage({ type: 'ready' } satisfies ExecutorReady);
}
