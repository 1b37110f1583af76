import 'reflect-metadata';
import * as http from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { GatewayModule } from './gateway.module';
import { JamExceptionFilter } from './jam-exception.filter';
import type { GatewayDeps } from './gateway.deps';
import { RateLimitGate } from './rate-limit';
import { bodyIdleTimeoutMiddleware, httpServerOptions, installClientErrorHandler, refuseLongUrl, sendJsonError, urlCapMiddleware } from './request-limits';
import { requestLogMiddleware } from './log-request.middleware';
import { ClientAddressPolicy } from './client-address';
import { httpTracingMiddleware } from '@jam/telemetry';
import { startGatewayRpc, type RpcServerOptions } from './rpc';
import { OpenApiDocumentHolder } from './api-docs.controller';
import { buildOpenApiDocument } from './openapi.document';

/** A started gateway: its HTTP server and a close function. */
export interface RunningGateway {
  server: Server;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** The JIP-2 RPC port bound, when `opts.rpc` was given. */
  rpcPort?: number;
  close(): Promise<void>;
}

/** Nest's Express adapter, but the HTTP server is created with our caps (`maxHeaderSize`, timeouts). */
class CappedExpressAdapter extends ExpressAdapter {
  constructor(private readonly serverOptions: http.ServerOptions) {
    super();
  }

  override initHttpServer(_options: NestApplicationOptions): void {
    this.setHttpServer(http.createServer(this.serverOptions, this.getInstance()));
  }
}

/**
 * Builds and starts the HTTP gateway. Bodies are not parsed globally: each route reads its own
 * body with its own cap, so oversized uploads are refused before they are read.
 *
 * Middleware order (each before any body byte is read): trace span, request log + metrics, URL cap (414),
 * rate limits (429), body idle timeout (408), then Nest's routes, guards and controllers. The
 * server itself enforces `max_header_bytes` (431), `headers_timeout_ms` and `request_timeout_ms`
 * (408); its `clientError` answers use the JSON error shape.
 */
export async function startGateway(deps: GatewayDeps, opts: { host: string; port: number; rpc?: Omit<RpcServerOptions, 'host'> }): Promise<RunningGateway> {
  const limits = deps.requestLimits;
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(deps), new CappedExpressAdapter(httpServerOptions(limits)), {
    bodyParser: false,
    logger: false,
  });
  // Tenant and admin tokens both get a per-token budget; anything else is keyed by client IP.
  const knownDigests = new Set([...deps.tokenDigests.values(), ...deps.adminTokenDigests.values()]);
  const addresses = new ClientAddressPolicy(deps.trustedProxies, []);
  const rateLimit = RateLimitGate.create(deps.rateLimit, {
    isKnownDigest: (d) => knownDigests.has(d),
    clientAddress: (req) => addresses.clientAddress(req),
    metrics: deps.metrics,
    logger: deps.logger,
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(httpTracingMiddleware({ packageHashOf }));
  app.use(requestLogMiddleware(deps.logger, deps.metrics, (req) => addresses.clientAddress(req)));
  app.use(urlCapMiddleware(limits, deps.metrics));
  app.use(rateLimit.middleware());
  app.use(bodyIdleTimeoutMiddleware(limits, deps.metrics, deps.logger));
  app.useGlobalFilters(new JamExceptionFilter(deps.logger, deps.metrics));
  // Generated from the controllers once, before the first request; served by ApiDocsController.
  app.get(OpenApiDocumentHolder).set(buildOpenApiDocument(app));
  await app.listen(opts.port, opts.host);
  const server = app.getHttpServer() as Server;
  installClientErrorHandler(server, limits, deps.metrics, deps.logger);
  // `Expect: 100-continue` (curl sends it for large uploads): refuse an oversized preimage, a too
  // long URL or a rate-limited client before the client sends a byte of the body; everything
  // else gets the 100 and proceeds as usual (the middleware reuses the rate-limit decision).
  server.removeAllListeners('checkContinue');
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (refuseLongUrl(req, res, limits, deps.metrics)) return;
    if (req.method === 'PUT' && req.url?.startsWith('/jam/preimages/') && declared > deps.maxPreimageBytes) {
      deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      sendJsonError(res, 413, 'payload_too_large', `preimage of ${declared} bytes exceeds max_preimage_bytes (${deps.maxPreimageBytes})`, {
        details: { max_bytes: deps.maxPreimageBytes },
        close: true,
      });
      return;
    }
    rateLimit.admit(req, res).then(
      (ok) => {
        if (!ok) return;
        res.writeContinue();
        server.emit('request', req, res);
      },
      (err: unknown) => {
        deps.logger.error({ err }, 'rate limiter failed on Expect: 100-continue');
        sendJsonError(res, 500, 'internal', 'internal error', { close: true });
      },
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  // JIP-2 JSON-RPC over WebSocket on its own port, over the same services as the HTTP routes (docs/jip2.md).
  const rpc =
    opts.rpc &&
    (await startGatewayRpc(app, deps, rateLimit, addresses, { host: opts.host, ...opts.rpc }).catch(async (err: unknown) => {
      await app.close();
      await rateLimit.close();
      throw err;
    }));
  return {
    server,
    port,
    rpcPort: rpc?.port,
    close: async () => {
      await rpc?.close();
      await app.close();
      await rateLimit.close();
    },
  };
}

/** `jam.package_hash` for the request span: the `:hash`/`:packageHash` route parameter where the route has one. */
function packageHashOf(req: IncomingMessage): string | undefined {
  const r = req as IncomingMessage & { params?: Record<string, string | undefined>; route?: { path?: unknown } };
  const path = typeof r.route?.path === 'string' ? r.route.path : '';
  const hash = r.params?.['packageHash'] ?? (path.startsWith('/jam/packages/') ? r.params?.['hash'] : undefined);
  return hash !== undefined && /^0x[0-9a-fA-F]{64}$/.test(hash) ? hash.toLowerCase() : undefined;
}
