import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { JamMetrics, Logger } from '@jam/telemetry';
import { bearerTokenOf, shortTokenHash, tokenSha256 } from './log-token-hash';

/**
 * Express middleware, first in the chain: one structured log line and the HTTP metrics per
 * request, when the response finishes (or the connection closes first: `status` 0, `aborted`).
 * Fields: method, route template, path (never the query string, where a misplaced token could
 * sit), status, duration_ms, token_hash (12 hex of sha256 of the presented token, or absent),
 * principal (once authenticated), client ip, declared body length. Never headers, the token or
 * body bytes. Levels: 5xx `error`; 401, 403, 429 and aborted requests `warn` (the auth-failure
 * and abuse trail of the threat model's "Monitoring/Detection"); everything else `info`.
 */
export function requestLogMiddleware(logger: Logger, metrics: JamMetrics, clientAddress: (req: IncomingMessage) => string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    // Resolved now: by the time the response is done Node may have detached the socket.
    const ip = clientAddress(req);
    const end = metrics.httpDuration.startTimer();
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      const status = aborted ? 0 : res.statusCode;
      metrics.httpRequests.inc({ route, method: req.method, status: aborted ? 'aborted' : String(status) });
      end({ route, method: req.method });
      const token = bearerTokenOf(req);
      const fields = {
        method: req.method,
        route,
        path: req.path,
        status,
        ...(aborted ? { aborted: true } : {}),
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        ...(token !== undefined ? { token_hash: shortTokenHash(tokenSha256(token)) } : {}),
        ...(typeof (req as { principal?: unknown }).principal === 'string' ? { principal: (req as { principal?: string }).principal } : {}),
        ip,
        ...(req.headers['content-length'] !== undefined ? { content_length: Number(req.headers['content-length']) } : {}),
      };
      if (status >= 500) logger.error(fields, 'request');
      else if (status === 401 || status === 403 || status === 429 || aborted) logger.warn(fields, 'request');
      else logger.info(fields, 'request');
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    next();
  };
}
