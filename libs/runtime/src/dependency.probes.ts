import type { JamMetrics, Logger } from '@jam/telemetry';

/** ms between reachability probes of the backing stores. */
const PROBE_INTERVAL_MS = 10_000;
/** ms after which an unanswered probe counts as down. */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Reachability of the database and (production) Redis from this process, for the
 * JamDatabaseUnreachable / JamRedisUnreachable alerts: every process probes, so a partition that
 * cuts off only some pods shows too. Sets `jam_dependency_up{dependency}` to 1 or 0 every 10 s;
 * a probe that has not answered in 5 s counts as down.
 * @param probes dependency name -> a call that rejects when it is unreachable
 * @returns the stop step (clears the timer)
 */
export function startDependencyProbes(probes: Record<string, () => Promise<unknown>>, metrics: JamMetrics, logger: Logger): () => Promise<void> {
  const probe = async () => {
    for (const [dependency, run] of Object.entries(probes)) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`probe timed out after ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      });
      try {
        await Promise.race([run(), timeout]);
        metrics.dependencyUp.set({ dependency }, 1);
      } catch (err) {
        metrics.dependencyUp.set({ dependency }, 0);
        logger.warn({ err, dependency }, 'backing store probe failed');
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const probeTimer = setInterval(() => void probe(), PROBE_INTERVAL_MS);
  probeTimer.unref();
  void probe();
  return async () => clearInterval(probeTimer);
}
