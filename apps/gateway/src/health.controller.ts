import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';

/** Liveness, readiness and Prometheus metrics; unauthenticated (keep /metrics off public ingress). */
@Controller()
export class HealthController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * 200 when every backing store answers within 2 s, else 503 naming the failing ones (the queue
   * check writes to Redis, so a Redis that refuses writes fails it). Each result is also the
   * gauge `jam_readiness{check}` (1 ok, 0 failing), which alert `JamNotReady` watches.
   */
  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const checks: Record<string, string> = {};
    await Promise.all(
      Object.entries(this.deps.readiness).map(async ([name, probe]) => {
        try {
          await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
          checks[name] = 'ok';
          this.deps.metrics.readiness.set({ check: name }, 1);
        } catch (err) {
          checks[name] = `error: ${(err as Error).message}`;
          this.deps.metrics.readiness.set({ check: name }, 0);
        }
      }),
    );
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res
      .status(200)
      .type(this.deps.metrics.registry.contentType)
      .send(await this.deps.metrics.registry.metrics());
  }
}
