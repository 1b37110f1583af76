import { DynamicModule, Module } from '@nestjs/common';
import type { GatewayDeps } from './gateway.deps';
import { gatewayProviders } from './gateway.providers';
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
import { QueueBoardController, QueueBoardGuard } from './queue-board.controller';
import { ApiDocsController, OpenApiDocumentHolder } from './api-docs.controller';
import { PreimageUploadService } from './preimage-upload.service';
import { ServiceRegistrationService } from './service-registration.service';
import { PackageSubmissionService } from './package-submission.service';
import { PackageEventsService } from './package-events.service';
import { PackageRetryService } from './package-retry.service';
import { AttestationIntakeService } from './attestation-intake.service';
import { DisputeResolutionService } from './dispute-resolution.service';
import { AdminService } from './admin.service';
import { ReadinessService } from './readiness.service';

/**
 * The gateway's Nest module. `forRoot` turns what the launcher built ({@link GatewayDeps}: stores,
 * ports, settings) into providers ({@link gatewayProviders}); the controllers parse input, call one
 * of the services below and shape the answer (docs/architecture.md section 5).
 */
@Module({})
export class GatewayModule {
  static forRoot(deps: GatewayDeps): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [
        HealthController,
        ApiDocsController,
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
        ...gatewayProviders(deps),
        BearerTokenGuard,
        AdminTokenGuard,
        QueueBoardGuard,
        AdminAuditInterceptor,
        AccessPolicy,
        OpenApiDocumentHolder,
        PreimageUploadService,
        ServiceRegistrationService,
        PackageSubmissionService,
        PackageEventsService,
        PackageRetryService,
        AttestationIntakeService,
        DisputeResolutionService,
        AdminService,
        ReadinessService,
      ],
    };
  }
}
