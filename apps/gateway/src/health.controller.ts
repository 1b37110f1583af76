import { Controller, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ROUTES } from '@jam/http-contract';
import { JamMetrics } from '@jam/telemetry';
import { Endpoint } from './endpoint.decorator';
import { ReadinessService } from './readiness.service';

/** Liveness, readiness and Prometheus metrics; unauthenticated (keep /metrics off public ingress). */
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metricsRegistry: JamMetrics,
  ) {}

  @Endpoint(ROUTES.healthz)
  healthz() {
    return { status: 'ok' };
  }

  /** 200 when every backing store answers within 2 s, else 503 naming the failing ones ({@link ReadinessService}). */
  @Endpoint(ROUTES.readyz)
  async readyz(@Res() res: Response): Promise<void> {
    const { ok, checks } = await this.readiness.check();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  }

  @Endpoint(ROUTES.metrics)
  async metrics(@Res() res: Response): Promise<void> {
    res
      .status(200)
      .type(this.metricsRegistry.registry.contentType)
      .send(await this.metricsRegistry.registry.metrics());
  }
}
