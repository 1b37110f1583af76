import type { IncomingMessage } from 'node:http';
import { createBearerAuthenticator, type BearerResult } from './bearer-authenticator';
import { MAX_TOKEN_CHARS, tokenDigest, type TokenMatch } from './token-digest.verifier';

/** `Authorization: Basic <base64(user:password)>` (RFC 7617); the user part is ignored, the password is the admin token. */
const BASIC_RE = /^basic ([A-Za-z0-9+/]+={0,2})$/i;

/**
 * Reads the admin token of a queue-board request: `Authorization: Bearer <token>` as every admin
 * route, or `Authorization: Basic` whose password is the token (what a browser sends after the
 * board's Basic challenge: it cannot send a bearer header on navigation).
 */
export function createBoardAuthenticator(verify: (token: string) => TokenMatch | null): (req: IncomingMessage) => BearerResult {
  const bearer = createBearerAuthenticator(verify);
  return (req) => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? BASIC_RE.exec(header) : null;
    if (!m) return bearer(req);
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const token = colon < 0 ? '' : decoded.slice(colon + 1);
    if (token === '' || token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'malformed', digest: null };
    const match = verify(token);
    return match ? { ok: true, match } : { ok: false, reason: 'unknown_token', digest: tokenDigest(token) };
  };
}
