import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError } from '@jam/domain';
import type { JamMetrics, Logger } from '@jam/telemetry';
import { isDatabaseUnavailable } from '@jam/persistence';
import { BlobStoreUnavailableError } from '@jam/blob-store';
import { statusOf } from './error-status';

/**
 * A backing store whose outage is answered 503; the `dependency` label of
 * `jam_dependency_unavailable_total`. Not the queue: a failed enqueue after the commit is absorbed
 * (the reconciler enqueues the row later), so Redis outages show in /readyz, not as 503s.
 */
export type Dependency = 'database' | 'blob_store';

/**
 * Seconds a client is told to wait (`Retry-After`) after a 503 `dependency_unavailable`: long
 * enough not to hammer a restarting database, short enough that a blip costs little (a
 * PostgreSQL restart took 13 s in the issue 11 trial).
 */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/**
 * Which backing store an unexpected error says is unavailable, or undefined for a real fault:
 * the database (connection refused, reset or terminated, server starting or shutting down; see
 * `isDatabaseUnavailable`) or the object store ({@link BlobStoreUnavailableError}).
 */
export function unavailableDependency(err: unknown): Dependency | undefined {
  if (err instanceof BlobStoreUnavailableError) return 'blob_store';
  if (isDatabaseUnavailable(err)) return 'database';
  return undefined;
}

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
 * HttpException by status, an outage of a backing store ({@link unavailableDependency}) to 503
 * `dependency_unavailable` with `Retry-After` and `details.dependency` (counted in
 * `jam_dependency_unavailable_total`), anything else to 500 `internal` with no stack trace or
 * message leak.
 */
@Catch()
export class JamExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: JamMetrics,
  ) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    let status: number;
    let body: ErrorBody;
    const known = err instanceof DomainError || err instanceof HttpException;
    // A client that went away mid-body raises socket errors (ECONNRESET) too: those are not an outage.
    const clientGone = !known && !req.complete && (req.destroyed || res.destroyed);
    const dependency = known || clientGone ? undefined : unavailableDependency(err);
    if (dependency !== undefined) {
      status = 503;
      this.metrics.dependencyUnavailable.inc({ dependency });
      this.logger.warn(
        { err: { message: (err as Error).message }, dependency, method: req.method, route: req.route?.path ?? 'unmatched' },
        'dependency unavailable; answered 503',
      );
      body = {
        error: {
          code: 'dependency_unavailable',
          message: `the ${dependency.replace('_', ' ')} is unavailable; retry after ${DEPENDENCY_RETRY_AFTER_SECONDS} s`,
          details: { dependency, retry_after_seconds: DEPENDENCY_RETRY_AFTER_SECONDS },
        },
      };
      if (!res.headersSent) res.setHeader('Retry-After', String(DEPENDENCY_RETRY_AFTER_SECONDS));
    } else if (err instanceof DomainError) {
      status = statusOf(err.code);
      body = { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
      if (status === 503 && !res.headersSent) res.setHeader('Retry-After', String(DEPENDENCY_RETRY_AFTER_SECONDS));
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      const r = err.getResponse();
      const message = typeof r === 'string' ? r : typeof (r as { message?: unknown }).message === 'string' ? (r as { message: string }).message : err.message;
      body = { error: { code: HTTP_CODES[status] ?? `http_${status}`, message } };
    } else if (clientGone) {
      // The client went away (or a timeout closed the connection) while its body was being read:
      // not a server fault, and there is nobody left to answer.
      this.logger.info(
        { method: req.method, route: req.route?.path ?? 'unmatched', reason: (err as { code?: unknown }).code ?? 'closed' },
        'request body not completed; connection closed',
      );
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
