import { DomainError } from '@jam/domain';
import { DEPENDENCY_RETRY_AFTER_SECONDS, unavailableDependency } from '../jam-exception.filter';

/**
 * JSON-RPC error codes the JIP-2 server answers with (docs/jip2.md, "Errors"). JIP-2 allows only
 * its own codes and the JSON-RPC 2.0 specification's, and forbids inventing others; our stable
 * error code travels in `data.code` instead (the same strings as the HTTP API's `error.code`).
 */
export const RPC_ERROR = {
  /** JSON-RPC 2.0: the frame is not JSON. */
  parseError: -32700,
  /** JSON-RPC 2.0: not a Request object. */
  invalidRequest: -32600,
  /** JSON-RPC 2.0: no such method. */
  methodNotFound: -32601,
  /** JSON-RPC 2.0: wrong number or type of parameters, bad base64, a hash that is not 32 bytes. */
  invalidParams: -32602,
  /** JSON-RPC 2.0: a fault of the server (logged; never details). */
  internalError: -32603,
  /** JIP-2 0: any other error (quota, rate limit, invalid package, unavailable dependency, ...). */
  other: 0,
  /** JIP-2 1: block unavailable; `data` = the header hash (base64). */
  blockUnavailable: 1,
  /** JIP-2 2: work-report unavailable; `data` = the report hash (base64). */
  workReportUnavailable: 2,
} as const;

/** A JSON-RPC error object (JSON-RPC 2.0 section 5.1). */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An error a method throws with its JSON-RPC code and data already decided. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Domain codes that mean "the parameters are wrong" (HTTP 400): JSON-RPC -32602. */
const PARAM_CODES: ReadonlySet<string> = new Set(['invalid_encoding', 'invalid_hex', 'invalid_request', 'invalid_json']);

/**
 * The JSON-RPC error for anything a method threw: an {@link RpcError} as is; a `DomainError` as
 * -32602 (bad parameters) or 0 with `data: {code, details?}`; an outage of the database or blob
 * store as 0 with `data.code` `dependency_unavailable`; anything else -32603 `internal` (the
 * caller logs it).
 * @returns the error object and whether it was unexpected (to be logged as an error)
 */
export function toRpcError(err: unknown): { error: RpcErrorObject; unexpected: boolean } {
  if (err instanceof RpcError)
    return { error: { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) }, unexpected: false };
  if (err instanceof DomainError) {
    const data = { code: err.code, ...(err.details ? { details: err.details } : {}) };
    return { error: { code: PARAM_CODES.has(err.code) ? RPC_ERROR.invalidParams : RPC_ERROR.other, message: err.message, data }, unexpected: false };
  }
  const dependency = unavailableDependency(err);
  if (dependency !== undefined) {
    return {
      error: {
        code: RPC_ERROR.other,
        message: `the ${dependency.replace('_', ' ')} is unavailable; retry after ${DEPENDENCY_RETRY_AFTER_SECONDS} s`,
        data: { code: 'dependency_unavailable', details: { dependency, retry_after_seconds: DEPENDENCY_RETRY_AFTER_SECONDS } },
      },
      unexpected: false,
    };
  }
  return { error: { code: RPC_ERROR.internalError, message: 'internal error', data: { code: 'internal' } }, unexpected: true };
}

/** A -32602 error naming the parameter (`data.code` `invalid_request`, `data.details.param`). */
export function invalidParam(param: string, message: string): RpcError {
  return new RpcError(RPC_ERROR.invalidParams, `${param}: ${message}`, { code: 'invalid_request', details: { param } });
}
