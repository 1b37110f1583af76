import { ACCUMULATE_QUEUE, ATTESTATION_QUEUE, JANITOR_QUEUE, refineQueueNames } from '@jam/queue-contracts';
import type { RoleHost, RoleModule } from '@jam/runtime';
import { Janitor } from './janitor';

/** ms between queue depth samples. */
const QUEUE_DEPTH_SAMPLE_MS = 10_000;

/**
 * The janitor role: the janitor's scheduled tasks on the `janitor` queue (reconciler, retention,
 * preimage GC, blob hygiene and S3 migrator; docs/architecture.md section 6), its jobs wrapped like
 * every other consumer's, and the queue depth samples for dashboards and the growing-queue alert.
 */
export function janitorRole(): RoleModule {
  return {
    role: 'janitor',
    async start(host) {
      const { config } = host;
      const janitor = new Janitor(
        {
          ...host.repos,
          blobs: host.blobs,
          tiered: host.tiered,
          queue: host.queue,
          attesterCount: config.attesters,
          threshold: config.attestationThreshold,
          metrics: host.metrics,
          logger: host.logger,
        },
        {
          intervalMs: config.reconcileIntervalMs,
          staleMs: config.reconcileStaleMs,
          bootStaleMs: config.mode === 'embedded' ? 0 : config.reconcileStaleMs,
          retentionDays: config.retentionDays,
          retentionIntervalMs: config.retentionIntervalMs,
          retentionBatchSize: config.retentionBatchSize,
          preimageGcGraceHours: config.preimageGcGraceHours,
          preimageGcIntervalMs: config.preimageGcIntervalMs,
          blobHygieneIntervalMs: config.blobHygieneIntervalMs,
          blobVerifySample: config.blobVerifySample,
          s3MigrateBatch: config.s3?.migrateBatch,
        },
      );
      await janitor.start({ wrap: host.instrument(JANITOR_QUEUE) });
      host.onStop(async () => janitor.stop());
      host.onStop(startQueueDepthSampler(host));
    },
  };
}

/**
 * Samples `jam_queue_depth{queue,state}` (waiting, delayed, active, failed) of every pipeline queue
 * every 10 s; one process samples, the one that runs the janitor. A failed sample is logged and
 * retried at the next tick.
 * @returns the stop step (clears the timer)
 */
function startQueueDepthSampler(host: RoleHost): () => Promise<void> {
  const { config, metrics, logger, queue } = host;
  const queues = [...Array.from({ length: config.attesters }, (_, i) => refineQueueNames(i)).flat(), ATTESTATION_QUEUE, ACCUMULATE_QUEUE];
  const sample = async () => {
    for (const q of queues) {
      try {
        const c = await queue.counts(q);
        metrics.queueDepth.set({ queue: q, state: 'waiting' }, c.waiting);
        metrics.queueDepth.set({ queue: q, state: 'delayed' }, c.delayed);
        metrics.queueDepth.set({ queue: q, state: 'active' }, c.active);
        metrics.queueDepth.set({ queue: q, state: 'failed' }, c.failed);
      } catch (err) {
        logger.warn({ err, queue: q }, 'queue depth sample failed');
      }
    }
  };
  const timer = setInterval(() => void sample(), QUEUE_DEPTH_SAMPLE_MS);
  timer.unref();
  void sample();
  return async () => clearInterval(timer);
}
