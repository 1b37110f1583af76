/**
 * Stable error codes of the domain. The HTTP edge maps each code to a status in one place
 * (apps/gateway); workers map them to retry-or-final. WARNING: clients match on these strings.
 */
export type DomainErrorCode =
  | 'invalid_encoding'
  | 'invalid_json'
  | 'invalid_hex'
  | 'invalid_package'
  | 'invalid_code'
  | 'hash_mismatch'
  | 'payload_too_large'
  | 'not_found'
  | 'unknown_service'
  | 'unknown_preimage'
  | 'quota_exceeded'
  | 'rate_limited'
  | 'unauthorized'
  | 'forbidden'
  | 'conflict'
  | 'invalid_request'
  | 'invalid_signature'
  | 'unknown_attester'
  /** a failed package whose failure a rerun cannot change (a verdict, not an infrastructure fault) */
  | 'not_retryable'
  /** a failed package that has had max_package_retries retries */
  | 'retry_limit_reached'
  /** A per-principal storage quota (`max_stored_preimage_bytes`) would be passed: 413. */
  | 'storage_quota_exceeded'
  /** A backing store (database, object store, queue) is unreachable or restarting: 503 with Retry-After. */
  | 'dependency_unavailable'
  /** A package imports a segment this system does not hold (GP ImportSpec; details name it): 422. */
  | 'unknown_import_segment'
  /** A package names a prerequisite package that is not accumulated here: 422. */
  | 'unknown_prerequisite';

/** An error with a stable `code`, a human message and optional structured details. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
