import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { DomainError } from '@jam/domain';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';

/** A request after authentication. `principal` is the configured name of the token's owner. */
export interface AuthedRequest extends Request {
  principal: string;
  /** First 12 hex chars of sha256(token), safe to log. */
  tokenHash: string;
}

/** sha256 hex of a token, the form tokens are configured and compared in. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Bearer authentication for `/jam/*` (`auth_required`, `allowed_tokens`; threat model
 * "Unauthorized Access"). The presented token is hashed and compared with every configured digest
 * in constant time (equal-length digests, so the token's length leaks nothing). Tokens in the
 * query string are refused. 401 carries `WWW-Authenticate: Bearer`.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly digests: { principal: string; digest: Buffer }[];

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {
    this.digests = [...deps.tokenDigests].map(([principal, d]) => ({ principal, digest: Buffer.from(d, 'hex') }));
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const res = ctx.switchToHttp().getResponse<Response>();
    if (/[?&](access_token|token)=/i.test(req.originalUrl)) {
      this.deps.metrics.authFailures.inc({ reason: 'token_in_query' });
      throw new DomainError('invalid_request', 'tokens are not accepted in the query string; send Authorization: Bearer <token>');
    }
    if (!this.deps.authRequired) {
      req.principal = 'anonymous';
      req.tokenHash = '-';
      return true;
    }
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (!m) {
      this.deps.metrics.authFailures.inc({ reason: header ? 'malformed' : 'missing' });
      res.setHeader('WWW-Authenticate', 'Bearer realm="jam"');
      throw new DomainError('unauthorized', 'missing or malformed bearer token');
    }
    const presented = Buffer.from(tokenDigest(m[1]!), 'hex');
    let principal: string | undefined;
    for (const d of this.digests) {
      // Check every digest (no early exit) so timing does not tell which principal matched.
      if (timingSafeEqual(presented, d.digest) && principal === undefined) principal = d.principal;
    }
    const tokenHash = presented.toString('hex').slice(0, 12);
    if (principal === undefined) {
      this.deps.metrics.authFailures.inc({ reason: 'unknown_token' });
      this.deps.logger.warn({ tokenHash, method: req.method, path: req.path }, 'auth failure: unknown token');
      res.setHeader('WWW-Authenticate', 'Bearer realm="jam", error="invalid_token"');
      throw new DomainError('unauthorized', 'unknown bearer token');
    }
    req.principal = principal;
    req.tokenHash = tokenHash;
    return true;
  }
}
