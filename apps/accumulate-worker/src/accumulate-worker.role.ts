import { consume } from '@jam/queue';
import { ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1 } from '@jam/queue-contracts';
import type { RoleModule } from '@jam/runtime';
import { MAX_STORAGE_SNAPSHOT_BYTES, MAX_STORAGE_SNAPSHOT_ITEMS, sharedSandboxPool } from '@jam/sandbox';
import { AccumulateProcessor } from './accumulate.processor';
import { GpAccumulator } from './gp-accumulator';

/**
 * The accumulate-worker role: consumes the `accumulate` queue with `accumulate_concurrency` jobs
 * at a time on the process's sandbox pool (shared with refine when both run here), applying each
 * report's storage writes once per service (docs/architecture.md section 6).
 */
export function accumulateWorkerRole(): RoleModule {
  return {
    role: 'accumulate-worker',
    async start(host) {
      const { config } = host;
      const sandbox = await sharedSandboxPool(host, {
        size: config.sandboxPoolSize,
        expressSize: config.sandboxExpressExecutors,
        generalNice: config.sandboxGeneralNice,
        wallClockMs: config.sandboxWallClockMs,
        uid: config.sandboxUid,
        gid: config.sandboxGid,
      });
      const storageQuota = { maxBytes: config.maxServiceStorageBytes, maxItems: config.maxServiceStorageItems };
      // the executor snapshot limits of the Wasm path bound what one tenant's GP state may be
      const product = { storageQuota, snapshot: { maxItems: MAX_STORAGE_SNAPSHOT_ITEMS, maxBytes: MAX_STORAGE_SNAPSHOT_BYTES } };
      const processor = new AccumulateProcessor({
        ...host.repos,
        blobs: host.blobs,
        sandbox,
        gp: { accumulator: new GpAccumulator({ gpState: host.repos.gpState, sandbox, chain: 'full', product }), state: host.repos.gpState },
        metrics: host.metrics,
        logger: host.logger,
        storageQuota,
        maxAccumulateTimeouts: config.maxAccumulateTimeouts,
        maxSandboxFailures: config.maxSandboxFailures,
      });
      consume(
        host.queue,
        ACCUMULATE_QUEUE,
        { [ACCUMULATE_REPORT_V1]: (job) => processor.handle(job) },
        { concurrency: config.accumulateConcurrency, wrap: host.instrument(ACCUMULATE_QUEUE) },
      );
    },
  };
}
