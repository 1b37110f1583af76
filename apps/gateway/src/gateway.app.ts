import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  await app.listen(opts.port, opts.host);
  const server = app.getHttpServer() as Server;
  // `Expect: 100-continue` (curl sends it for large uploads): refuse an oversized preimage before
  // the client sends a byte of it; everything else gets the 100 and proceeds as usual.
  server.removeAllListeners('checkContinue');
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (req.method === 'PUT' && req.url?.startsWith('/jam/preimages/') && declared > deps.maxPreimageBytes) {
      deps.metrics.quotaRejected.inc({ quota: 'max_preimage_bytes' });
      res.writeHead(413, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: { code: 'payload_too_large', message: `preimage of ${declared} bytes exceeds max_preimage_bytes (${deps.maxPreimageBytes})`, details: { max_bytes: deps.maxPreimageBytes } } }));
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  // Slow-drip uploads and idle sockets must not hold the gateway forever.
  server.requestTimeout = 300_000;
  server.headersTimeout = 20_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { server, port, close: () => app.close() };
}
