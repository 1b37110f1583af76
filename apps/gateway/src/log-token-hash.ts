import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * `Authorization: Bearer <token>`: the scheme is case-insensitive (RFC 7235 section 2.1, so
 * `bearer` and `BEARER` count), one space, then 1 to 512 visible ASCII characters (RFC 6750
 * b64token, loosely). The one parser the bearer guards, the rate limiter and the request log all
 * use, so a token that authenticates is always charged to its own budget and logged by its hash.
 */
const BEARER_RE = /^bearer ([\x21-\x7e]{1,512})$/i;

/** What an `Authorization` header holds: nothing, a bearer token, or something else. */
export type BearerHeader = { kind: 'missing' } | { kind: 'malformed' } | { kind: 'bearer'; token: string };

/** Parses the request's `Authorization` header with {@link BEARER_RE}. Never log the token. */
export function parseBearerHeader(req: IncomingMessage): BearerHeader {
  const header = req.headers.authorization;
  if (header === undefined) return { kind: 'missing' };
  const m = typeof header === 'string' ? BEARER_RE.exec(header) : null;
  return m ? { kind: 'bearer', token: m[1]! } : { kind: 'malformed' };
}

/** The presented bearer token, or undefined when the header is absent or malformed. Never log the result. */
export function bearerTokenOf(req: IncomingMessage): string | undefined {
  const h = parseBearerHeader(req);
  return h.kind === 'bearer' ? h.token : undefined;
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
