import { JANITOR_QUEUE, RECONCILE_V1, parseJobPayload } from '@jam/queue-contracts';
import type { ConsumedJob } from '@jam/queue';
import { reconcile, type ReconcileDeps } from './reconcile.processor';

/** Janitor settings. */
export interface JanitorOptions {
  /** ms between reconciler runs */
  intervalMs: number;
  /** ms a package must sit unchanged before its missing job is re-enqueued */
  staleMs: number;
  /**
   * Staleness for the reconcile run at start, ms. 0 in embedded mode, whose in-process queue is
   * empty after a restart; `staleMs` with a durable queue, so replicas booting do not redo work in flight.
   */
  bootStaleMs: number;
}

/**
 * Schedules the janitor's tasks. Each tick enqueues `reconcile.v1` with a job id derived from the
 * time bucket, so several janitor replicas produce one run per interval; the handler does the work.
 */
export class Janitor {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly deps: ReconcileDeps,
    private readonly opts: JanitorOptions,
  ) {}

  /** Starts consuming the janitor queue and scheduling ticks, after one reconcile run with `bootStaleMs`. */
  async start(): Promise<void> {
    this.deps.queue.process(JANITOR_QUEUE, (job) => this.handle(job), { concurrency: 1 });
    await this.runOnce(this.opts.bootStaleMs);
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  async handle(job: ConsumedJob): Promise<void> {
    parseJobPayload(RECONCILE_V1, job.payload);
    await this.runOnce(this.opts.staleMs);
  }

  /** One reconcile pass; failures are counted, logged and rethrown so the job retries. */
  async runOnce(staleMs: number): Promise<number> {
    try {
      const n = await reconcile(this.deps, staleMs);
      this.deps.metrics.janitorRuns.inc({ task: 'reconcile', outcome: 'ok' });
      return n;
    } catch (err) {
      this.deps.metrics.janitorRuns.inc({ task: 'reconcile', outcome: 'error' });
      this.deps.logger.error({ err }, 'reconcile failed');
      throw err;
    }
  }

  private async tick(): Promise<void> {
    const bucket = Math.floor(Date.now() / this.opts.intervalMs);
    try {
      await this.deps.queue.enqueue(JANITOR_QUEUE, RECONCILE_V1, {}, { jobId: `reconcile-${bucket}` });
    } catch (err) {
      this.deps.logger.error({ err }, 'could not schedule reconcile');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
