import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError } from '@jam/domain';
import type { Logger } from '@jam/telemetry';
import { statusOf } from './error-status';

/** The JSON error shape of docs/architecture.md section 5. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const HTTP_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * Maps every error to `{error: {code, message, details?}}`: DomainError by its code, Nest's
 * HttpException by status, anything else to 500 `internal` with no stack trace or message leak.
 */
@Catch()
export class JamExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    let status: number;
    let body: ErrorBody;
    if (err instanceof DomainError) {
      status = statusOf(err.code);
      body = { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      const r = err.getResponse();
      const message = typeof r === 'string' ? r : typeof (r as { message?: unknown }).message === 'string' ? (r as { message: string }).message : err.message;
      body = { error: { code: HTTP_CODES[status] ?? `http_${status}`, message } };
    } else if (!req.complete && (req.destroyed || res.destroyed)) {
      // The client went away (or a timeout closed the connection) while its body was being read:
      // not a server fault, and there is nobody left to answer.
      this.logger.info({ method: req.method, route: req.route?.path ?? 'unmatched', reason: (err as { code?: unknown }).code ?? 'closed' }, 'request body not completed; connection closed');
      res.destroy();
      return;
    } else {
      status = 500;
      this.logger.error({ err, method: req.method, route: req.route?.path ?? 'unmatched' }, 'unhandled error');
      body = { error: { code: 'internal', message: 'internal error' } };
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body we stopped reading (413, hash mismatch mid-stream) cannot be drained safely: close the connection.
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(status).json(body);
  }
}
