import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, fstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import path from 'node:path';
import { fromHex } from '@jam/domain';
import { DEFAULT_MEMORY_PAGES_CAP, MAX_STORAGE_SNAPSHOT_BYTES, MAX_STORAGE_SNAPSHOT_ITEMS } from './host-abi';
import { footprintOf } from './storage-footprint';
import { MAX_GAS_LIMIT, type AccumulateOutcome, type AccumulateRequest, type CodeCheckOutcome, type RefineOutcome, type RefineRequest } from './sandbox.types';
import { EXECUTOR_HEAP_MB } from './module-limits';
import type { WorkerRequest, WorkerResponse } from './sandbox.worker';
import type { ExecutorReady } from './executor.process';
import { gpAccumulateGas, type GpAccumulateJob, type GpAccumulateOutcome } from './pvm/accumulate/gp-accumulate-job';

/** Options of `SandboxPool`. */
export interface SandboxPoolOptions {
  /** Number of executor processes that run any call (default 2). */
  size?: number;
  /**
   * Extra executor processes that run only short calls, gas limit at most {@link SHORT_CALL_GAS}
   * (default 0). Every accumulate is short (a package's accumulate gas is below G_A), and so are
   * ordinary refine items: with one such executor they never wait behind long refines, whoever
   * submitted those (docs/fairness.md).
   */
  expressSize?: number;
  /** Wall-clock backstop per job (ms, default 10000); the executor is killed and replaced when it expires. */
  wallClockMs?: number;
  /** Cap on guest linear memory (64 KiB pages, default 1024 = 64 MiB). */
  memoryPagesCap?: number;
  /**
   * OS user id the executors run guest code as (`sandbox_uid`). Unset: 65534 (nobody) when this
   * process runs as root, else this process's own uid (no switch). Switching needs root
   * (CAP_SETUID/CAP_SETGID); see {@link resolveExecutorIdentity}.
   */
  uid?: number;
  /** OS group id of the executors (`sandbox_gid`); unset = the uid's number (65534 = nogroup when defaulted). */
  gid?: number;
  /**
   * Nice increment of the general executors (`sandbox_general_nice`, 0..19, default 0): they run
   * at this process's nice value plus this (at most 19), express executors at this process's own.
   * On a shared CPU the kernel then gives short calls (express executors) and the worker processes
   * the CPU before long refines, so a quiet tenant's short call is not slowed by a flood's long
   * ones (docs/fairness.md). Raising a nice value needs no privilege; where the OS refuses,
   * executors keep the default priority and {@link SandboxPool.niceFallback} says why.
   */
  generalNice?: number;
}

/** Unprivileged id executors default to when the worker runs as root: 65534, `nobody` / `nogroup`. */
export const DEFAULT_EXECUTOR_ID = 65534;

/**
 * Decides the uid/gid `fork` gets for executors (docs/sandbox.md, "Executor user"). Guest code
 * never runs as root: as root with nothing requested it gets {@link DEFAULT_EXECUTOR_ID}; a
 * requested id different from ours needs root, else this throws at boot rather than silently
 * running guest code as the worker's user.
 * @param requested `{ uid, gid }` from SandboxPoolOptions (either may be undefined)
 * @param current this process's ids (`process.getuid()`, `process.getgid()`); undefined on Windows
 * @returns `{ uid, gid }` to pass to `fork`, or undefined to run as this process's user
 * @throws Error when a uid/gid other than ours is requested without root, or a requested id is not
 *   an integer in 0..4294967294
 */
export function resolveExecutorIdentity(
  requested: { uid?: number; gid?: number },
  current: { uid?: number; gid?: number },
): { uid: number; gid: number } | undefined {
  for (const [name, v] of [
    ['uid', requested.uid],
    ['gid', requested.gid],
  ] as const)
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 4294967294))
      throw new RangeError(`sandbox ${name} must be an integer 0..4294967294, got ${v}`);
  if (current.uid === undefined) {
    if (requested.uid !== undefined || requested.gid !== undefined)
      throw new Error('sandbox_uid/sandbox_gid are not supported on this platform (no POSIX user ids)');
    return undefined;
  }
  const root = current.uid === 0;
  if (!root) {
    if ((requested.uid !== undefined && requested.uid !== current.uid) || (requested.gid !== undefined && requested.gid !== current.gid))
      throw new Error(
        `sandbox_uid=${requested.uid ?? '(unset)'} sandbox_gid=${requested.gid ?? '(unset)'} requested, but this process runs as uid ${current.uid} ` +
          '(not root): switching executors to another user needs root (CAP_SETUID, CAP_SETGID). Start as root or unset JAM_SANDBOX_UID / JAM_SANDBOX_GID ' +
          "(executors then run as this process's user; on Kubernetes the pod's uid and seccomp profile are the boundary).",
      );
    return undefined;
  }
  const uid = requested.uid ?? DEFAULT_EXECUTOR_ID;
  const gid = requested.gid ?? (requested.uid === undefined ? DEFAULT_EXECUTOR_ID : requested.uid);
  return { uid, gid };
}

/** How a call queues when every executor is busy. */
export interface PoolCallOptions {
  /**
   * Fair-share priority of the work package the call belongs to (docs/fairness.md): a waiting
   * call with a lower number gets the next free executor first, FIFO among equal numbers.
   * Absent = 0, ahead of every prioritized call. A non-integer or negative value is treated as 0.
   */
  priority?: number;
}

interface PendingJob {
  request: WorkerRequest;
  gasLimit: bigint;
  /** 0 = none (first), else the package's queue priority; lower first. */
  priority: number;
  resolve: (outcome: RefineOutcome | AccumulateOutcome | CodeCheckOutcome | GpAccumulateOutcome) => void;
  reject: (error: Error) => void;
}

interface Slot {
  child: ChildProcess;
  /** Takes only short calls (gas limit <= SHORT_CALL_GAS). */
  express: boolean;
  online: boolean;
  job: PendingJob | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Code cache keys this executor has been sent, so a repeat job can omit the code bytes. */
  knownCode: Set<string>;
  /** Consecutive start-up failures of this slot's executors (reset once one reports ready). */
  startFailures: number;
}

/**
 * Gas limit (gas) up to which a call is short and may run on an express executor: G_A, the
 * accumulate gas of a whole package (GP 0.7.2 constant, `GP_ACCUMULATE_GAS`), about 8 ms of guest
 * time at the cost table's 1.2e9 gas/s. Refine items may ask for up to G_R = 5e9.
 */
export const SHORT_CALL_GAS = 10_000_000n;

/** Backoff before respawning a slot whose executor died before it was ready (ms): 100, 200, 400, ... */
export const RESPAWN_BACKOFF_MIN_MS = 100;
/** Upper bound of that backoff (ms). */
export const RESPAWN_BACKOFF_MAX_MS = 30_000;

/**
 * The executor running a job failed without giving a guest result: the process crashed, was
 * killed (other than by the wall clock) or lost its IPC channel (`kind: 'crashed'`), or it answered
 * with an error instead of an outcome, e.g. an engine fault such as a V8 RangeError or a host bug
 * (`kind: 'errored'`). Not a deterministic result of the guest: callers must not record it as
 * one; they retry it a bounded number of times (`max_sandbox_failures`). The message always starts
 * with `sandbox executor failed: `. Pool shutdown and start-up failures are plain `Error`s.
 */
export class SandboxExecutorError extends Error {
  override name = 'SandboxExecutorError';
  constructor(
    readonly kind: 'crashed' | 'errored',
    detail: string,
  ) {
    super(`sandbox executor failed: ${detail}`);
  }
}

/**
 * Path of the compiled executor entry: the `.js` sibling when running from dist, else the built
 * file under dist/ (jest runs the `.ts` sources; `npm test` builds first).
 */
export function executorEntryPath(): string {
  const sibling = path.join(__dirname, 'executor.process.js');
  if (existsSync(sibling)) return sibling;
  return path.resolve(__dirname, '..', '..', '..', 'dist', 'libs', 'sandbox', 'src', 'executor.process.js');
}

/**
 * A pool of pre-started executor PROCESSES running metered service code (docs/sandbox.md).
 *
 * Guest code never runs in the caller's process, which holds the attester keys and credentials:
 * each executor is a `child_process.fork` with an empty environment, no inherited descriptors but
 * the IPC channel (stdio on /dev/null) and explicit V8 flags, and receives only the bytes a job
 * needs. Compiled modules are cached per code hash inside each executor; every job gets a fresh
 * instance. A job that outlives `wallClockMs` gets its executor SIGKILLed and replaced; a crashed
 * executor is replaced too. Optional express executors take only short calls (SHORT_CALL_GAS), so a
 * short call never waits behind long ones. When all executors are busy, calls queue by their package's priority
 * (lower first, FIFO within one priority), so one tenant's backlog of heavy calls cannot hold a
 * quiet tenant's call behind it (docs/fairness.md).
 */
export class SandboxPool {
  private readonly size: number;
  private readonly expressSize: number;
  private readonly wallClockMs: number;
  private readonly memoryPagesCap: number;
  /** uid/gid executors are forked with; undefined = this process's user. */
  private identity: { uid: number; gid: number } | undefined;
  /** The identity was the root default (nothing requested), not a setting: it may fall back (see start()). */
  private readonly defaultedIdentity: boolean;
  /** Why a defaulted executor user was not used, or undefined (see start()). */
  private fallback: string | undefined;
  private readonly generalNice: number;
  /** Why the general executors' nice value could not be set (first failure), or undefined. */
  private niceFailure: string | undefined;
  private readonly slots: Slot[] = [];
  private readonly queue: PendingJob[] = [];
  private nextId = 1;
  private closed = false;
  /** `start()` has completed: from then on a slot whose replacement fails to start is retried with backoff. */
  private running = false;

  constructor(options: SandboxPoolOptions = {}) {
    this.size = options.size ?? 2;
    this.expressSize = options.expressSize ?? 0;
    this.wallClockMs = options.wallClockMs ?? 10_000;
    this.memoryPagesCap = options.memoryPagesCap ?? DEFAULT_MEMORY_PAGES_CAP;
    this.generalNice = options.generalNice ?? 0;
    if (!Number.isInteger(this.generalNice) || this.generalNice < 0 || this.generalNice > 19)
      throw new RangeError(`generalNice must be an integer 0..19, got ${this.generalNice}`);
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`size must be a positive integer, got ${this.size}`);
    if (!Number.isInteger(this.expressSize) || this.expressSize < 0)
      throw new RangeError(`expressSize must be a non-negative integer, got ${this.expressSize}`);
    if (!(this.wallClockMs > 0)) throw new RangeError(`wallClockMs must be positive, got ${this.wallClockMs}`);
    if (!Number.isInteger(this.memoryPagesCap) || this.memoryPagesCap < 1 || this.memoryPagesCap > 65536)
      throw new RangeError(`memoryPagesCap must be 1..65536 pages, got ${this.memoryPagesCap}`);
    this.identity = resolveExecutorIdentity({ uid: options.uid, gid: options.gid }, { uid: process.getuid?.(), gid: process.getgid?.() });
    this.defaultedIdentity = this.identity !== undefined && options.uid === undefined && options.gid === undefined;
  }

  /**
   * Set after start() when the worker runs as root with no `sandbox_uid`, but the default executor
   * user (65534) cannot reach the built executor files (e.g. a checkout under a 0700 directory):
   * executors then run as this process's user and this says why. The process logs it as a warning;
   * set JAM_SANDBOX_UID (strict: a boot error instead) or make the files world-readable.
   */
  identityFallback(): string | undefined {
    return this.fallback;
  }

  /**
   * Why the general executors run without their `generalNice` (the OS refused to lower their
   * priority), or undefined. The process logs it as a warning.
   */
  niceFallback(): string | undefined {
    return this.niceFailure;
  }

  /** uid/gid the executors run as; undefined when they run as this process's user (not root, nothing requested). */
  executorIdentity(): { uid: number; gid: number } | undefined {
    return this.identity;
  }

  /**
   * Starts the executor processes and waits until each reports ready.
   * @throws Error if the executor entry is missing (run `npm run build`), is not readable by the
   *   executor user, or an executor fails to start
   */
  async start(): Promise<void> {
    const entry = executorEntryPath();
    if (!existsSync(entry)) throw new Error(`sandbox executor entry not found at ${entry}; run \`npm run build\``);
    if (this.identity !== undefined) {
      try {
        assertWorldReadable(entry, this.identity);
      } catch (e) {
        // An explicit sandbox_uid is strict. The root default only improves on running as root; when
        // the default user cannot reach the code it falls back, loudly (identityFallback()).
        if (!this.defaultedIdentity) throw e;
        this.fallback = `${(e as Error).message}; executors run as this process's user (uid ${process.getuid?.()}) instead`;
        this.identity = undefined;
      }
    }
    this.closed = false;
    const starting: Promise<void>[] = [];
    while (this.slots.length < this.size + this.expressSize) starting.push(this.spawn(this.slots.length));
    await Promise.all(starting);
    this.running = true;
  }

  /** Stops every executor; queued and running jobs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.running = false;
    for (const job of this.queue.splice(0)) job.reject(new Error('sandbox pool closed'));
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        if (slot.timer !== undefined) clearTimeout(slot.timer);
        slot.job?.reject(new Error('sandbox pool closed'));
        slot.job = undefined;
        await kill(slot.child);
      }),
    );
  }

  /** Process ids of the running executors (for health checks and the isolation tests). */
  executorPids(): number[] {
    return this.slots.filter((s) => s.online && s.child.pid !== undefined).map((s) => s.child.pid as number);
  }

  /**
   * Runs `refine` of one work item. Guest failures are results (`out_of_gas`, `panic`, `oversize`,
   * `bad_code`, `bad_exports`, `code_oversize`); a wall-clock timeout gives `panic` with `timedOut`.
   * @throws SandboxExecutorError when the executor crashed or answered an error (engine fault,
   *   code hash mismatch) while running this job; Error when the pool is closed or not started
   */
  refine(req: RefineRequest, opts: PoolCallOptions = {}): Promise<RefineOutcome> {
    const { codeHash, code, itemIndex, payload, gasLimit, preimages, serviceId, imports, exportOffset, workPackage } = req;
    const packageHash = req.packageHash === undefined ? undefined : fromHex(req.packageHash, 32);
    return this.submit(
      {
        id: this.nextId++,
        type: 'refine',
        codeHash,
        code,
        memoryPagesCap: this.memoryPagesCap,
        job: { itemIndex, payload, gasLimit, preimages, serviceId, packageHash, imports, exportOffset, workPackage },
      },
      gasLimit,
      opts,
    ) as Promise<RefineOutcome>;
  }

  /**
   * Runs `accumulate` of one service over its operands, `write` bounded by `storageQuota`.
   * @throws Error on host failures, as `refine`; RangeError (rejected, nothing run) when
   *   `storageQuota` is not two non-negative safe integers or the snapshot is larger than
   *   MAX_STORAGE_SNAPSHOT_ITEMS / MAX_STORAGE_SNAPSHOT_BYTES (the executor could not hold it)
   */
  accumulate(req: AccumulateRequest, opts: PoolCallOptions = {}): Promise<AccumulateOutcome> {
    const { codeHash, code, gasLimit, operands, storage, storageQuota } = req;
    const { maxBytes, maxItems } = storageQuota;
    if (!isCount(maxBytes) || !isCount(maxItems))
      return Promise.reject(new RangeError(`storageQuota must be non-negative safe integers, got ${maxBytes} bytes / ${maxItems} items`));
    if (storage.size > MAX_STORAGE_SNAPSHOT_ITEMS)
      return Promise.reject(new RangeError(`storage snapshot of ${storage.size} items exceeds MAX_STORAGE_SNAPSHOT_ITEMS (${MAX_STORAGE_SNAPSHOT_ITEMS})`));
    const { bytes } = footprintOf(storage);
    if (bytes > MAX_STORAGE_SNAPSHOT_BYTES)
      return Promise.reject(new RangeError(`storage snapshot of ${bytes} bytes exceeds MAX_STORAGE_SNAPSHOT_BYTES (${MAX_STORAGE_SNAPSHOT_BYTES})`));
    const job = { gasLimit, operands, storage, storageQuota: { maxBytes, maxItems } };
    return this.submit(
      { id: this.nextId++, type: 'accumulate', codeHash, code, memoryPagesCap: this.memoryPagesCap, job },
      gasLimit,
      opts,
    ) as Promise<AccumulateOutcome>;
  }

  /**
   * Checks service code for registration in an executor, off the caller's event loop: validation
   * and metering as a job does them, then every function compiled and the module instantiated,
   * under the executor's heap (EXECUTOR_HEAP_MB), stack and this pool's wall clock. A check past
   * the wall clock answers `valid: false, timedOut: true` and its executor is replaced. Queued
   * with this pool's jobs, never on an express executor (give registration checks a pool of their own).
   * @param codeHash Blake2b-256 of `code`, 0x-prefixed hex (the executor verifies it)
   * @param code module bytes as uploaded
   * @throws SandboxExecutorError when the executor crashed during the check (e.g. its heap ran
   *   out) or answered an error; Error when the pool is closed or not started
   */
  check(codeHash: string, code: Uint8Array): Promise<CodeCheckOutcome> {
    // the largest gas limit keeps a check (seconds of metering and compiling) off express executors
    return this.submit(
      { id: this.nextId++, type: 'check', codeHash, code, memoryPagesCap: this.memoryPagesCap },
      MAX_GAS_LIMIT,
      {},
    ) as Promise<CodeCheckOutcome>;
  }

  /**
   * Runs the GP 0.7.2 accumulation STF (section 12: ready queue, Δ+ / Δ* / Δ1 with every accumulate
   * host call, deferred transfers, accumulated history) over the partial state in `job`, in an
   * executor (the service code is the preimage `a_p[a_c]` of each account, sent with the state).
   * A run past the wall clock answers `{ timedOut: true }` and its executor is replaced.
   * @throws SandboxExecutorError when the executor crashed or answered an error (an engine fault);
   *   Error when the pool is closed or not started
   */
  gpAccumulate(job: GpAccumulateJob, opts: PoolCallOptions = {}): Promise<GpAccumulateOutcome> {
    return this.submit({ id: this.nextId++, type: 'gp-accumulate', job }, gpAccumulateGas(job), opts) as Promise<GpAccumulateOutcome>;
  }

  private submit(
    request: WorkerRequest,
    gasLimit: bigint,
    opts: PoolCallOptions,
  ): Promise<RefineOutcome | AccumulateOutcome | CodeCheckOutcome | GpAccumulateOutcome> {
    if (this.closed || this.slots.length === 0) return Promise.reject(new Error('sandbox pool is not started'));
    const priority = Number.isSafeInteger(opts.priority) && (opts.priority as number) > 0 ? (opts.priority as number) : 0;
    return new Promise((resolve, reject) => {
      this.enqueue({ request, gasLimit, priority, resolve, reject });
      this.pump();
    });
  }

  /** Inserts after every waiting job of a lower or equal priority (binary search): FIFO within one priority. */
  private enqueue(job: PendingJob): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid]!.priority <= job.priority) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, job);
  }

  private spawn(index: number): Promise<void> {
    // WARNING: this is the isolation boundary (docs/sandbox.md). `env: {}` keeps every secret of
    // this process (tokens, DB/S3 credentials, key paths) away from guest code; `execArgv` is set so
    // nothing of ours (jest, --require hooks, --inspect) is inherited; stdio is /dev/null.
    // `--max-old-space-size` caps every isolate of the process, the guest thread's too (it overrides
    // resourceLimits); `--no-wasm-lazy-compilation` makes `new WebAssembly.Module` compile every
    // function, so a registration check proves what a job will compile, and `--no-liftoff` compiles
    // it with TurboFan: every job runs optimised code from its first instruction and nothing tiers
    // up in the background after a job on CPU no gas paid for (docs/sandbox.md "Executor flags";
    // TurboFan's compile time is bounded by MAX_MODULE_LOOPS).
    const child = fork(executorEntryPath(), [inheritableDescriptors()], {
      env: {},
      execArgv: [`--max-old-space-size=${EXECUTOR_HEAP_MB}`, '--no-wasm-lazy-compilation', '--no-liftoff', '--disallow-code-generation-from-strings'],
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
      // guest code runs as an unprivileged user (docs/sandbox.md, "Executor user"): it cannot read
      // the attester keys (0600), tokens or data of this process's user
      ...(this.identity ?? {}),
    });
    const express = index >= this.size;
    // Threads the executor creates later (its guest thread) inherit its main thread's nice value.
    if (!express) this.lowerPriority(child.pid);
    const slot: Slot = {
      child,
      express,
      online: false,
      job: undefined,
      timer: undefined,
      knownCode: new Set(),
      startFailures: this.slots[index]?.startFailures ?? 0,
    };
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      child.on('message', (msg: WorkerResponse | ExecutorReady) => {
        if ('type' in msg && msg.type === 'ready') {
          // and the threads Node started before the call above (Linux: one nice value per thread)
          if (!express) for (const tid of threadsOf(child.pid)) this.lowerPriority(tid);
          slot.online = true;
          slot.startFailures = 0;
          resolve();
          this.pump();
          return;
        }
        this.onMessage(slot, msg as WorkerResponse);
      });
      child.on('error', (err) => {
        if (!slot.online) reject(err);
        this.onExecutorGone(slot, err);
      });
      child.on('exit', (code, signal) => {
        const err = new Error(`sandbox executor exited with ${signal ?? `code ${code}`}`);
        if (!slot.online) reject(err);
        this.onExecutorGone(slot, err);
      });
    });
  }

  /**
   * Sets thread or process `id` (a general executor) to this process's nice value plus
   * `generalNice`, at most 19. Best effort: a refusal is kept for {@link niceFallback}.
   */
  private lowerPriority(id: number | undefined): void {
    if (this.generalNice === 0 || id === undefined) return;
    try {
      setPriority(id, Math.min(19, getPriority() + this.generalNice));
    } catch (err) {
      // the thread may have exited meanwhile (ESRCH): not a refusal
      if ((err as { info?: { code?: string } }).info?.code !== 'ESRCH') this.niceFailure ??= (err as Error).message;
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      // the wall clock starts only once the executor is online, so a slow respawn never times a job out
      if (slot.job !== undefined || !slot.online) continue;
      if (this.queue.length === 0) return;
      // the queue is in priority order: a general executor takes the head, an express one the first short call
      const at = slot.express ? this.queue.findIndex((j) => j.gasLimit <= SHORT_CALL_GAS) : 0;
      if (at < 0) continue;
      const job = this.queue.splice(at, 1)[0]!;
      slot.job = job;
      slot.timer = setTimeout(() => this.onTimeout(slot), this.wallClockMs);
      this.send(slot, job.request, false);
    }
  }

  /** Sends a job, leaving out the code bytes when this executor was sent them before (it caches by hash). */
  private send(slot: Slot, request: WorkerRequest, forceCode: boolean): void {
    if (request.type === 'check' || request.type === 'gp-accumulate') {
      // a check always carries its code and never fills the executor's cache; a GP accumulation carries the accounts' code in its state
      slot.child.send(request, (err) => {
        if (err) this.onExecutorGone(slot, err);
      });
      return;
    }
    const key = `${request.codeHash.toLowerCase()}/${request.memoryPagesCap}`;
    const withCode = forceCode || !slot.knownCode.has(key);
    slot.knownCode.add(key);
    slot.child.send(withCode ? request : { ...request, code: undefined }, (err) => {
      if (err) this.onExecutorGone(slot, err);
    });
  }

  private finish(slot: Slot): PendingJob | undefined {
    const job = slot.job;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    return job;
  }

  private onMessage(slot: Slot, msg: WorkerResponse): void {
    if (slot.job === undefined || slot.job.request.id !== msg.id) return;
    if (!msg.ok && 'needCode' in msg) {
      // the executor evicted this code from its cache: resend the same job with the bytes
      this.send(slot, slot.job.request, true);
      return;
    }
    const job = this.finish(slot) as PendingJob;
    if (msg.ok) job.resolve(msg.outcome);
    else job.reject(new SandboxExecutorError('errored', msg.error));
    this.pump();
  }

  /** Wall-clock backstop: kill the stuck executor, answer `panic` + `timedOut`, start a replacement. */
  private onTimeout(slot: Slot): void {
    const job = this.finish(slot);
    if (job === undefined) return;
    const gasUsed = job.gasLimit < 0n ? 0n : job.gasLimit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : job.gasLimit;
    if (job.request.type === 'check')
      job.resolve({
        valid: false,
        reason: `checking the code took longer than the ${this.wallClockMs} ms wall clock an executor allows a job`,
        category: 'code',
        timedOut: true,
      });
    else if (job.request.type === 'refine') job.resolve({ result: { panic: null }, gasUsed, logs: [], timedOut: true });
    else if (job.request.type === 'gp-accumulate') job.resolve({ timedOut: true });
    else job.resolve({ status: 'panic', gasUsed, writes: [], logs: [], timedOut: true });
    this.replace(slot);
  }

  private onExecutorGone(slot: Slot, err: Error): void {
    if (!this.slots.includes(slot)) return;
    const job = this.finish(slot);
    job?.reject(new SandboxExecutorError('crashed', err.message));
    if (!slot.online) {
      if (!this.running || this.closed) {
        // during start(): start() rejects with this error, nothing is retried
        this.slots.splice(this.slots.indexOf(slot), 1);
        if (this.slots.length === 0) for (const queued of this.queue.splice(0)) queued.reject(new Error(`sandbox executor failed to start: ${err.message}`));
        return;
      }
      // A replacement died before it was ready (OOM killer, fork failure, a kill): keep the slot and
      // retry with exponential backoff, so a transient fault never shrinks the pool for good. While
      // no executor is online, queued jobs fail (plain Error: the queue retries them later).
      slot.startFailures++;
      const delay = Math.min(RESPAWN_BACKOFF_MAX_MS, RESPAWN_BACKOFF_MIN_MS * 2 ** Math.min(slot.startFailures - 1, 20));
      if (!this.slots.some((s) => s.online))
        for (const queued of this.queue.splice(0)) queued.reject(new Error(`sandbox executor failed to start: ${err.message}`));
      slot.child.removeAllListeners();
      slot.child.on('error', () => undefined);
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        const index = this.slots.indexOf(slot);
        if (this.closed || index < 0) return;
        this.spawn(index).then(
          () => this.pump(),
          () => undefined,
        );
      }, delay);
      slot.timer.unref();
      return;
    }
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    slot.child.removeAllListeners();
    slot.child.on('error', () => undefined);
    void kill(slot.child);
    if (this.closed) {
      this.slots.splice(index, 1);
      return;
    }
    this.spawn(index).then(
      () => this.pump(),
      () => undefined,
    );
    this.pump();
  }
}

/**
 * Checks that the executor user can load `entry`: the file is readable and every directory above it
 * searchable by "other" (or owned by that uid/gid). Catches a dist/ built under umask 077 at boot
 * instead of as executors that die on start.
 * @throws Error naming the path that blocks the executor user
 */
function assertWorldReadable(entry: string, id: { uid: number; gid: number }): void {
  let p = path.resolve(entry);
  let need = 0o4; // r for the file, x for each directory
  for (;;) {
    const st = statSync(p);
    const bits = st.uid === id.uid ? (st.mode >> 6) & 7 : st.gid === id.gid ? (st.mode >> 3) & 7 : st.mode & 7;
    if ((bits & need) === 0)
      throw new Error(
        `sandbox executors run as uid ${id.uid} gid ${id.gid} but cannot ${need === 0o4 ? 'read' : 'enter'} ${p} (mode ${(st.mode & 0o777).toString(8)}); ` +
          'make the built files world-readable (chmod -R o+rX dist) or set JAM_SANDBOX_UID to a user that can read them',
      );
    const parent = path.dirname(p);
    if (parent === p) return;
    p = parent;
    need = 0o1;
  }
}

/**
 * Descriptors open in this process that a child could inherit (those without close-on-exec, which
 * Node cannot query), as `fd:dev:ino` joined by commas. The executor closes each of them that is the
 * very same open file in it (same device and inode), so whatever a process manager or a library
 * leaked into this process does not reach guest code. Identities only, never paths. Skipped: stdio
 * and /dev/null (the executor's own stdio is /dev/null), and anonymous inodes (epoll, eventfd: they
 * all share one inode, so they cannot be told from Node's own, and carry no data). Empty off Linux.
 */
export function inheritableDescriptors(): string {
  let fds: string[];
  let devNull: number;
  try {
    fds = readdirSync('/proc/self/fd');
    devNull = statSync('/dev/null').rdev;
  } catch {
    return '';
  }
  const out: string[] = [];
  for (const name of fds) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('anon_inode:')) continue;
      const st = fstatSync(fd);
      if (st.isCharacterDevice() && st.rdev === devNull) continue;
      out.push(`${fd}:${st.dev}:${st.ino}`);
    } catch {
      // the directory handle readdirSync used, already closed
    }
  }
  return out.join(',');
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** SIGKILLs an executor (a guest stuck in a loop ignores everything else) and waits for it to exit. */
function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
    // a child that never started (fork failed: 'error' without 'exit') has nothing to wait for
    setTimeout(resolve, 2000).unref();
  });
}

/** Thread ids of process `pid` (Linux `/proc/<pid>/task`); empty where there is no /proc or the process is gone. */
function threadsOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}
