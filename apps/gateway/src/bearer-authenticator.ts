import { Passport } from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import type { Request, Response } from 'express';
import { tokenDigest, type TokenMatch } from './token-digest.verifier';

/** Outcome of reading and checking the bearer token of one request. */
export type BearerResult =
  | { ok: true; match: TokenMatch }
  /** `digest`: sha256 hex of a presented but unknown token (for the audit log), else null. */
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown_token'; digest: string | null };

/** Tokens in the query string are never accepted (they end up in proxy and access logs). */
export const QUERY_TOKEN_RE = /[?&](access_token|token|bearer|auth)=/i;

/**
 * Bearer extraction with passport-http-bearer's Strategy (RFC 6750 `Authorization: Bearer`),
 * checked by `verify` (a constant-time digest match). One private Passport instance per
 * authenticator: nothing global, no sessions. Callers refuse query-string tokens before calling
 * (the strategy would otherwise read `?access_token=`).
 */
export function createBearerAuthenticator(verify: (token: string) => TokenMatch | null): (req: Request, res: Response) => Promise<BearerResult> {
  const passport = new Passport();
  const seen = new WeakMap<Request, string>();
  passport.use(
    'bearer',
    new BearerStrategy({ passReqToCallback: true }, (req: Request, token: string, done: (err: unknown, user?: TokenMatch | false) => void) => {
      seen.set(req, tokenDigest(token));
      done(null, verify(token) ?? false);
    }),
  );
  return (req, res) =>
    new Promise<BearerResult>((resolve, reject) => {
      const handler = passport.authenticate('bearer', { session: false }, (err: unknown, user: TokenMatch | false, _info: unknown, status?: number) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        if (user) return resolve({ ok: true, match: user });
        const digest = seen.get(req) ?? null;
        const reason = digest !== null ? 'unknown_token' : status === 400 || req.headers.authorization !== undefined ? 'malformed' : 'missing';
        resolve({ ok: false, reason, digest });
      });
      handler(req, res, (err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve({ ok: false, reason: 'missing', digest: null })));
    });
}
