import { DynamicModule, Module } from '@nestjs/common';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { BearerTokenGuard } from './bearer-token.guard';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminAuditInterceptor } from './admin-audit.interceptor';
import { AccessPolicy } from './access.policy';
import { PreimagesController } from './preimages.controller';
import { ServicesController } from './services.controller';
import { PackagesController } from './packages.controller';
import { ReportsController } from './reports.controller';
import { AttestersController } from './attesters.controller';
import { HealthController } from './health.controller';
import { AdminController } from './admin.controller';
import { OptionsController } from './options.controller';
import { CodeCheckLimiter } from './code-check.limiter';
import { QueueBoardController, QueueBoardGuard } from './queue-board.controller';
import { PreimageUpload } from './preimage-upload';

/** The gateway's Nest module; `forRoot` takes the dependencies the launcher built. */
@Module({})
export class GatewayModule {
  static forRoot(deps: GatewayDeps): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [
        HealthController,
        PreimagesController,
        ServicesController,
        PackagesController,
        ReportsController,
        AttestersController,
        AdminController,
        OptionsController,
        QueueBoardController,
      ],
      providers: [
        { provide: GATEWAY_DEPS, useValue: deps },
        { provide: CodeCheckLimiter, useValue: new CodeCheckLimiter(deps.codeChecks) },
        BearerTokenGuard,
        AdminTokenGuard,
        QueueBoardGuard,
        AdminAuditInterceptor,
        AccessPolicy,
        PreimageUpload,
      ],
    };
  }
}
