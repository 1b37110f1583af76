import type { IncomingMessage } from 'node:http';
import { tokenDigest, type TokenMatch } from './token-digest.verifier';
import { parseBearerHeader } from './log-token-hash';

/** Outcome of reading and checking the bearer token of one request. */
export type BearerResult =
  | { ok: true; match: TokenMatch }
  /** `digest`: sha256 hex of a presented but unknown token (for the audit log), else null. */
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown_token'; digest: string | null };

/**
 * Query parameter names that look like a credential, compared after percent-decoding, in lower
 * case and without `_`, `-` and spaces: `?access_token=`, `?%61ccess_token=`, `?ACCESS%5FTOKEN=`,
 * `?access-token=`, `?Token=` all match.
 */
const QUERY_TOKEN_NAMES: ReadonlySet<string> = new Set(['accesstoken', 'token', 'bearer', 'auth', 'authorization', 'apikey']);

/**
 * The credential-like query parameter of a request target, or undefined. Tokens are never
 * accepted in the query string (they end up in proxy and access logs; threat model "Unauthorized
 * Access"), and a request carrying one is refused whatever its header says. The query is decoded
 * as a server would (`URLSearchParams`: percent-escapes and `+`), so no spelling slips past.
 * @param target the raw request target (`req.originalUrl`), path and query
 * @returns the parameter name as decoded, for the audit log
 */
export function queryTokenParam(target: string): string | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  for (const name of new URLSearchParams(target.slice(q + 1)).keys()) {
    if (QUERY_TOKEN_NAMES.has(name.toLowerCase().replace(/[\s_-]/g, ''))) return name;
  }
  return undefined;
}

/**
 * Reads the `Authorization: Bearer` token with the gateway's one parser ({@link parseBearerHeader},
 * shared with the rate limiter and the request log) and checks it with `verify` (a constant-time
 * digest match). Only the header is read: never the query string or the body.
 */
export function createBearerAuthenticator(verify: (token: string) => TokenMatch | null): (req: IncomingMessage) => BearerResult {
  return (req) => {
    const h = parseBearerHeader(req);
    if (h.kind !== 'bearer') return { ok: false, reason: h.kind, digest: null };
    const match = verify(h.token);
    return match ? { ok: true, match } : { ok: false, reason: 'unknown_token', digest: tokenDigest(h.token) };
  };
}
