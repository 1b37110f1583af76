/**
 * The object store (S3) did not answer usefully: a connect or socket timeout, a refused or reset
 * connection, or a 5xx / throttling answer, after the SDK's retries. The request may succeed
 * later: the HTTP edge answers 503 `dependency_unavailable` with `Retry-After` (never 500), and
 * workers retry the job. `cause` is the SDK's error (never shown to clients).
 */
export class BlobStoreUnavailableError extends Error {
  override name = 'BlobStoreUnavailableError';
  /** The dependency, as the `dependency` label of `jam_dependency_unavailable_total`. */
  readonly dependency = 'blob_store' as const;

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'SlowDown',
  'InternalError',
  'ThrottlingException',
  'NetworkingError',
]);
const TRANSIENT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Socket failures named in a message: the SDK's retry middleware wraps a thrown value it does not
 * recognise as an Error (one from another realm) as `AWS SDK error wrapper for Error: connect
 * ECONNREFUSED ...`, keeping only the text.
 */
const TRANSIENT_MESSAGE = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b|socket hang up/;

/**
 * True when an error of the AWS SDK means the object store is unreachable, slow or overloaded
 * (timeouts, socket errors, HTTP 5xx/503 SlowDown), as opposed to an answer about the request
 * (404, 403, 412).
 */
export function isObjectStoreUnavailable(err: unknown, depth = 0): boolean {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && TRANSIENT_ERRNOS.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return depth < 4 && e.cause !== undefined && isObjectStoreUnavailable(e.cause, depth + 1);
}
