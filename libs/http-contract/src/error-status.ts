import type { DomainErrorCode } from '@jam/domain';

/**
 * Error codes the HTTP edge answers with that are not domain errors: request limits and transport
 * refusals written before any route runs (`apps/gateway/src/request-limits.ts`), and the
 * catch-all of the exception filter. WARNING: clients match on these strings.
 */
export const EDGE_ERROR_CODES = {
  request_timeout: 408,
  uri_too_long: 414,
  header_too_large: 431,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  internal: 500,
} as const;

/** A code of an edge refusal ({@link EDGE_ERROR_CODES}). */
export type EdgeErrorCode = keyof typeof EDGE_ERROR_CODES;

/** Every stable `error.code` the API answers with: the domain's codes and the edge's. */
export type ApiErrorCode = DomainErrorCode | EdgeErrorCode;

/**
 * The one place a domain error code becomes an HTTP status (docs/architecture.md section 12,
 * habit 7); the gateway's exception filter, the OpenAPI document and the fake test server all use
 * it. The switch is exhaustive: a new code that is not mapped here fails the typecheck.
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

/** HTTP status of any API error code: {@link statusOf} for domain codes, {@link EDGE_ERROR_CODES} for the edge's. */
export function statusOfApiError(code: ApiErrorCode): number {
  return code in EDGE_ERROR_CODES ? EDGE_ERROR_CODES[code as EdgeErrorCode] : statusOf(code as DomainErrorCode);
}
