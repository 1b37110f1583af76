import { Inject, Injectable } from '@nestjs/common';
import { JamMetrics } from '@jam/telemetry';
import { READINESS_PROBES } from './gateway.providers';

/** Milliseconds each readiness probe may take before it counts as failing. */
export const READINESS_PROBE_TIMEOUT_MS = 2000;

/**
 * Readiness of the backing stores (`GET /readyz`; docs/observability.md): every probe runs with a
 * {@link READINESS_PROBE_TIMEOUT_MS} limit; each result is also the gauge `jam_readiness{check}`
 * (1 ok, 0 failing), which alert `JamNotReady` watches.
 */
@Injectable()
export class ReadinessService {
  constructor(
    @Inject(READINESS_PROBES) private readonly probes: Record<string, () => Promise<void>>,
    private readonly metrics: JamMetrics,
  ) {}

  /** Runs every probe. @returns `ok` and, per check, `ok` or `error: <reason>` */
  async check(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    await Promise.all(
      Object.entries(this.probes).map(async ([name, probe]) => {
        try {
          await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), READINESS_PROBE_TIMEOUT_MS).unref())]);
          checks[name] = 'ok';
          this.metrics.readiness.set({ check: name }, 1);
        } catch (err) {
          checks[name] = `error: ${(err as Error).message}`;
          this.metrics.readiness.set({ check: name }, 0);
        }
      }),
    );
    return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
  }
}
