import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { GatewayModule } from './gateway.module';
import { JamExceptionFilter } from './jam-exception.filter';
import type { GatewayDeps } from './gateway.deps';

/** A started gateway: its HTTP server and a close function. */
export interface RunningGateway {
  server: Server;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Builds and starts the HTTP gateway. Bodies are not parsed globally: each route reads its own
 * body with its own cap, so oversized uploads are refused before they are read.
 */
export async function startGateway(deps: GatewayDeps, opts: { host: string; port: number }): Promise<RunningGateway> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(deps), new ExpressAdapter(), {
    bodyParser: false,
    logger: false,
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = deps.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      deps.metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      end({ route, method: req.method });
    });
    next();
  });
  app.useGlobalFilters(new JamExceptionFilter(deps.logger));
  app.enableShutdownHooks([]);
  await app.listen(opts.port, opts.host);
  const server = app.getHttpServer() as Server;
  // Slow-drip uploads and idle sockets must not hold the gateway forever.
  server.requestTimeout = 300_000;
  server.headersTimeout = 20_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { server, port, close: () => app.close() };
}
