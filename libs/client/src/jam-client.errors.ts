/**
 * Errors thrown by `JamClient`. Every error carries a stable `code` so callers (the CLI, tests,
 * users) can branch on it without parsing messages.
 */

/** Base class of every error the client throws. `code` is stable; `message` is for humans. */
export class JamClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JamClientError';
  }
}

/**
 * The server answered with a non-2xx status. `code` is the server's stable error code
 * (`hash_mismatch`, `payload_too_large`, `not_found`, `unknown_service`, `invalid_code`,
 * `invalid_package`, `unauthorized`, `rate_limited`, ...; docs/architecture.md section 5), or `http_<status>`
 * when the body was not the documented `{error: {code, message, details?}}` shape (a proxy's HTML
 * page, an empty 502, ...).
 */
export class JamApiError extends JamClientError {
  constructor(
    /** HTTP status, e.g. 422 */
    readonly status: number,
    code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Seconds from the `Retry-After` header of a 429/503, when the server sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message);
    this.name = 'JamApiError';
  }
}

/**
 * The request never got an HTTP answer: connection refused, DNS failure, reset, or no progress
 * within `timeoutMs`. `code` is `network_error` or `timeout`; `url` is the request URL.
 */
export class JamNetworkError extends JamClientError {
  constructor(
    code: 'network_error' | 'timeout',
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'JamNetworkError';
  }
}
