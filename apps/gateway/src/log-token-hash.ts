import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The bearer syntax the gateway accepts: `Bearer <1..512 visible ASCII>` (RFC 6750 b64token, loosely). */
const BEARER_RE = /^Bearer ([\x21-\x7e]{1,512})$/;

/** The presented bearer token, or undefined when the header is absent or malformed. Never log the result. */
export function bearerTokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER_RE.exec(header)?.[1];
}

/** sha256 hex of a token (64 chars): the form tokens are configured and compared in. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The short token hash that logs, audit entries and rate-limit keys carry instead of a token:
 * the first 12 hex chars (48 bits) of sha256(token), the same as the bearer guard's `tokenHash`.
 * Enough to tell principals apart in logs; useless for recovering the token.
 */
export function shortTokenHash(digestHex: string): string {
  return digestHex.slice(0, 12);
}
