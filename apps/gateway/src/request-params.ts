import getRawBody from 'raw-body';
import type { Request } from 'express';
import { DomainError } from '@jam/domain';
import { HASH_PATTERN, SERVICE_ID_PATTERN } from '@jam/http-contract';

/** Validates a `0x` + 64 lowercase hex path parameter. @throws DomainError('invalid_hex') */
export function hashParam(value: string, name = 'hash'): string {
  if (!HASH_PATTERN.test(value)) throw new DomainError('invalid_hex', `${name} must be 0x followed by 64 lowercase hex digits`, { param: name });
  return value;
}

/** Parses a u32 service id path parameter. @throws DomainError('invalid_request') */
export function serviceIdParam(value: string): number {
  if (!SERVICE_ID_PATTERN.test(value) || Number(value) > 0xffffffff)
    throw new DomainError('invalid_request', 'service id must be an unsigned 32-bit integer', { param: 'id' });
  return Number(value);
}

/** Parses `limit` (default 50, 1..500). @throws DomainError('invalid_request') */
export function limitParam(value: unknown): number {
  if (value === undefined || value === '') return 50;
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 500) {
    throw new DomainError('invalid_request', 'limit must be an integer from 1 to 500');
  }
  return Number(value);
}

/** Optional string query parameter (rejects repeated parameters). */
export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 512) throw new DomainError('invalid_request', `${name} must be one string`);
  return value;
}

/**
 * Reads a whole request body up to `limit` bytes. Rejects before reading when Content-Length
 * already exceeds it. @throws DomainError('payload_too_large' | 'invalid_request')
 */
export async function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new DomainError('payload_too_large', `body of ${declared} bytes exceeds the limit of ${limit} bytes`, { max_bytes: limit });
  }
  try {
    return await getRawBody(req, { limit, length: declared });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new DomainError('payload_too_large', `body exceeds the limit of ${limit} bytes`, { max_bytes: limit });
    if (type === 'request.size.invalid') throw new DomainError('invalid_request', 'body length does not match Content-Length');
    if (type === 'request.aborted') throw new DomainError('invalid_request', 'request aborted by the client');
    throw err;
  }
}
