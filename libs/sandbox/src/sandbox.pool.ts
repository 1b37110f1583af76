import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_MEMORY_PAGES_CAP } from './host-abi';
import { MAX_GAS_LIMIT, type AccumulateOutcome, type AccumulateRequest, type RefineOutcome, type RefineRequest } from './sandbox.types';
import type { WorkerRequest, WorkerResponse } from './sandbox.worker';

/** Options of `SandboxPool`. */
export interface SandboxPoolOptions {
  /** Number of executor workers (default 2). */
  size?: number;
  /** Wall-clock backstop per job (ms, default 10000); the executor is killed and replaced when it expires. */
  wallClockMs?: number;
  /** Cap on guest linear memory (64 KiB pages, default 1024 = 64 MiB). */
  memoryPagesCap?: number;
}

interface PendingJob {
  request: WorkerRequest;
  gasLimit: bigint;
  resolve: (outcome: RefineOutcome | AccumulateOutcome) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  online: boolean;
  job: PendingJob | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Path of the compiled executor entry: the `.js` sibling when running from dist, else the built
 * file under dist/ (jest runs the `.ts` sources; `npm test` builds first).
 */
export function sandboxWorkerPath(): string {
  const sibling = path.join(__dirname, 'sandbox.worker.js');
  if (existsSync(sibling)) return sibling;
  return path.resolve(__dirname, '..', '..', '..', 'dist', 'libs', 'sandbox', 'src', 'sandbox.worker.js');
}

/**
 * A pool of pre-started executor workers running metered service code off the caller's event
 * loop. Compiled modules are cached per code hash inside each worker; every job gets a fresh
 * instance. Jobs queue FIFO when all workers are busy.
 */
export class SandboxPool {
  private readonly size: number;
  private readonly wallClockMs: number;
  private readonly memoryPagesCap: number;
  private readonly slots: Slot[] = [];
  private readonly queue: PendingJob[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: SandboxPoolOptions = {}) {
    this.size = options.size ?? 2;
    this.wallClockMs = options.wallClockMs ?? 10_000;
    this.memoryPagesCap = options.memoryPagesCap ?? DEFAULT_MEMORY_PAGES_CAP;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`size must be a positive integer, got ${this.size}`);
    if (!(this.wallClockMs > 0)) throw new RangeError(`wallClockMs must be positive, got ${this.wallClockMs}`);
    if (!Number.isInteger(this.memoryPagesCap) || this.memoryPagesCap < 1 || this.memoryPagesCap > 65536) throw new RangeError(`memoryPagesCap must be 1..65536 pages, got ${this.memoryPagesCap}`);
  }

  /**
   * Starts the workers and waits until they are online.
   * @throws Error if the worker entry is missing (run `npm run build`) or a worker fails to start
   */
  async start(): Promise<void> {
    const entry = sandboxWorkerPath();
    if (!existsSync(entry)) throw new Error(`sandbox worker entry not found at ${entry}; run \`npm run build\``);
    this.closed = false;
    const starting: Promise<void>[] = [];
    while (this.slots.length < this.size) starting.push(this.spawn(this.slots.length));
    await Promise.all(starting);
  }

  /** Stops every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('sandbox pool closed'));
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        if (slot.timer !== undefined) clearTimeout(slot.timer);
        slot.job?.reject(new Error('sandbox pool closed'));
        slot.job = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  /**
   * Runs `refine` of one work item. Guest failures are results (`out_of_gas`, `panic`, `oversize`,
   * `bad_code`, `bad_exports`, `code_oversize`); a wall-clock timeout gives `panic` with `timedOut`.
   * @throws Error on host failures (pool closed, worker crashed, code hash mismatch): transient or caller bugs
   */
  refine(req: RefineRequest): Promise<RefineOutcome> {
    const { codeHash, code, itemIndex, payload, gasLimit, preimages } = req;
    return this.submit({ id: this.nextId++, type: 'refine', codeHash, code, memoryPagesCap: this.memoryPagesCap, job: { itemIndex, payload, gasLimit, preimages } }, gasLimit) as Promise<RefineOutcome>;
  }

  /**
   * Runs `accumulate` of one service over its operands.
   * @throws Error on host failures, as `refine`
   */
  accumulate(req: AccumulateRequest): Promise<AccumulateOutcome> {
    const { codeHash, code, gasLimit, operands, storage } = req;
    return this.submit({ id: this.nextId++, type: 'accumulate', codeHash, code, memoryPagesCap: this.memoryPagesCap, job: { gasLimit, operands, storage } }, gasLimit) as Promise<AccumulateOutcome>;
  }

  private submit(request: WorkerRequest, gasLimit: bigint): Promise<RefineOutcome | AccumulateOutcome> {
    if (this.closed || this.slots.length === 0) return Promise.reject(new Error('sandbox pool is not started'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, gasLimit, resolve, reject });
      this.pump();
    });
  }

  private spawn(index: number): Promise<void> {
    const worker = new Worker(sandboxWorkerPath(), {
      // a generous native stack so MAX_CALL_DEPTH frames of MAX_FUNCTION_LOCALS locals never overflow it
      resourceLimits: { stackSizeMb: 32, maxOldGenerationSizeMb: 256 },
    });
    const slot: Slot = { worker, online: false, job: undefined, timer: undefined };
    this.slots[index] = slot;
    worker.on('message', (msg: WorkerResponse) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onWorkerGone(slot, err));
    worker.on('exit', (code) => this.onWorkerGone(slot, new Error(`sandbox worker exited with code ${code}`)));
    return new Promise((resolve, reject) => {
      worker.once('online', () => {
        slot.online = true;
        resolve();
        this.pump();
      });
      worker.once('error', reject);
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      // the wall clock starts only once the worker is online, so a slow respawn never times a job out
      if (slot.job !== undefined || !slot.online) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      slot.job = job;
      slot.timer = setTimeout(() => this.onTimeout(slot), this.wallClockMs);
      slot.worker.postMessage(job.request);
    }
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
    const job = this.finish(slot) as PendingJob;
    if (msg.ok) job.resolve(msg.outcome);
    else job.reject(new Error(`sandbox executor failed: ${msg.error}`));
    this.pump();
  }

  /** Wall-clock backstop: kill the stuck worker, answer `panic` + `timedOut`, start a replacement. */
  private onTimeout(slot: Slot): void {
    const job = this.finish(slot);
    if (job === undefined) return;
    const gasUsed = job.gasLimit < 0n ? 0n : job.gasLimit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : job.gasLimit;
    if (job.request.type === 'refine') job.resolve({ result: { panic: null }, gasUsed, logs: [], timedOut: true });
    else job.resolve({ status: 'panic', gasUsed, writes: [], logs: [], timedOut: true });
    this.replace(slot);
  }

  private onWorkerGone(slot: Slot, err: Error): void {
    if (!this.slots.includes(slot)) return;
    const job = this.finish(slot);
    job?.reject(new Error(`sandbox worker failed: ${err.message}`));
    if (!slot.online) {
      // never came up: do not respawn in a loop; fail queued jobs if no worker is left
      this.slots.splice(this.slots.indexOf(slot), 1);
      if (this.slots.length === 0) for (const queued of this.queue.splice(0)) queued.reject(new Error(`sandbox worker failed to start: ${err.message}`));
      return;
    }
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
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
