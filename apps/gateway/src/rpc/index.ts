import type { INestApplication } from '@nestjs/common';
import type { GatewayDeps } from '../gateway.deps';
import { AccessPolicy } from '../access.policy';
import { BearerTokenGuard } from '../bearer-token.guard';
import { PreimageUploadService } from '../preimage-upload.service';
import { PackageSubmissionService } from '../package-submission.service';
import type { RateLimitGate } from '../rate-limit';
import type { ClientAddressPolicy } from '../client-address';
import { Jip2Methods } from './jip2-methods';
import { startRpcServer, type RpcServerOptions, type RunningRpcServer } from './rpc-server';

export type { RpcServerOptions, RunningRpcServer } from './rpc-server';

/**
 * Starts the JIP-2 listener of a gateway over the providers of its Nest application (the same
 * AccessPolicy, bearer guard, PackageSubmissionService and PreimageUploadService instances as the HTTP routes) and its rate limiter.
 * @throws Error EADDRINUSE (with `port`) when the port is taken
 */
export function startGatewayRpc(
  app: INestApplication,
  deps: GatewayDeps,
  rateLimit: RateLimitGate,
  addresses: ClientAddressPolicy,
  opts: RpcServerOptions,
): Promise<RunningRpcServer> {
  const access = app.get(AccessPolicy);
  const methods = new Jip2Methods(deps, access, app.get(PreimageUploadService), app.get(PackageSubmissionService));
  return startRpcServer(
    {
      methods,
      guard: app.get(BearerTokenGuard),
      rateLimit,
      addresses,
      events: deps.events,
      requestLimits: deps.requestLimits,
      metrics: deps.metrics,
      logger: deps.logger,
    },
    opts,
  );
}
