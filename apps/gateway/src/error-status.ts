import type { DomainErrorCode } from '@jam/domain';

/**
 * The one place a domain error code becomes an HTTP status (docs/architecture.md section 12, habit 7). The switch is
 * exhaustive: a new code that is not mapped here fails the typecheck.
 */
export function statusOf(code: DomainErrorCode): number {
  switch (code) {
    case 'invalid_encoding':
    case 'invalid_json':
    case 'invalid_hex':
    case 'invalid_request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'retry_limit_reached':
      return 409;
    case 'payload_too_large':
    case 'storage_quota_exceeded':
      return 413;
    case 'invalid_package':
    case 'invalid_code':
    case 'hash_mismatch':
    case 'unknown_service':
    case 'unknown_preimage':
    case 'invalid_signature':
    case 'unknown_attester':
    case 'not_retryable':
    case 'unknown_import_segment':
    case 'unknown_prerequisite':
      return 422;
    case 'quota_exceeded':
    case 'rate_limited':
      return 429;
    case 'dependency_unavailable':
      return 503;
    default: {
      const unmapped: never = code;
      throw new Error(`unmapped domain error code ${String(unmapped)}`);
    }
  }
}
