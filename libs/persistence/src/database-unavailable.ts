/**
 * SQLSTATEs that mean "the server is not there for us right now", not "your statement is wrong"
 * (PostgreSQL docs, Appendix A): class 08 connection exceptions, 57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down), 53300
 * too_many_connections.
 */
const UNAVAILABLE_SQLSTATES = /^(08...|57P01|57P02|57P03|53300)$/;
/** Socket-level failures of the `pg` driver (Node errno codes). */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);
/** Messages the `pg` driver and pool use for a lost or unobtainable connection (they carry no code). */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|terminating connection due to administrator command/i;

/**
 * True when `err` (as thrown by a repository: a TypeORM `QueryFailedError` wrapping the `pg`
 * driver's error, or the driver's or pool's own error) means the database cannot be reached or is
 * restarting, so the request may succeed later: the HTTP edge answers 503 with `Retry-After`
 * instead of 500, and workers retry. False for everything else (SQL errors, constraint
 * violations, bugs). Looks through `driverError` and `cause`, at most 4 levels deep.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const x = e as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof x.code === 'string' && (UNAVAILABLE_SQLSTATES.test(x.code) || UNAVAILABLE_ERRNOS.has(x.code))) return true;
    if (typeof x.message === 'string' && UNAVAILABLE_MESSAGES.test(x.message)) return true;
    e = x.driverError ?? x.cause;
  }
  return false;
}
