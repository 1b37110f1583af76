import { DynamicModule, Module } from '@nestjs/common';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard } from './bearer-token.guard';
import { PreimagesController } from './preimages.controller';
import { ServicesController } from './services.controller';
import { PackagesController } from './packages.controller';
import { ReportsController } from './reports.controller';
import { HealthController } from './health.controller';

/** The gateway's Nest module; `forRoot` takes the dependencies the launcher built. */
@Module({})
export class GatewayModule {
  static forRoot(deps: GatewayDeps): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController, PreimagesController, ServicesController, PackagesController, ReportsController],
      providers: [{ provide: GATEWAY_DEPS, useValue: deps }, BearerTokenGuard],
    };
  }
}
