import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '@jam/domain';
import { AuditLogRepository } from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { AuthSettings, LOGGER } from './gateway.providers';
import { TokenDigestVerifier, type TokenMatch } from './token-digest.verifier';
import { createBearerAuthenticator, queryTokenParam, type BearerResult } from './bearer-authenticator';
import { ClientAddressPolicy } from './client-address';
import type { AuthedRequest } from './bearer-token.guard';

/**
 * Authentication for `/admin/*` (threat model "Abuse of Admin Controls"): the client address
 * (peer, or X-Forwarded-For behind `trusted_proxies` only) must be in `admin_ip_allowlist`
 * (else 403), and the bearer token must be one of `admin_tokens` (else 401 with
 * `WWW-Authenticate: Bearer`); `/jam` tokens are not admin tokens. Every refusal is written to the
 * audit log with the presented token's SHA-256 (never the token) and the client address.
 * `auth_required=false` does not open the admin API.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly addresses: ClientAddressPolicy;
  private readonly authenticate: (req: AuthedRequest) => BearerResult;

  constructor(
    settings: AuthSettings,
    private readonly metrics: JamMetrics,
    private readonly auditLog: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const admins = new TokenDigestVerifier(settings.adminTokenDigests);
    this.addresses = new ClientAddressPolicy(settings.trustedProxies, settings.adminIpAllowlist);
    this.authenticate = this.authenticator((token) => admins.match(token));
  }

  /** How a request presents its admin token: `Authorization: Bearer` here; the queue board also takes Basic. */
  protected authenticator(verify: (token: string) => TokenMatch | null): (req: AuthedRequest) => BearerResult {
    return createBearerAuthenticator(verify);
  }

  /** The message of a 401 for a request without a usable credential. */
  protected missingCredentialMessage(): string {
    return 'missing or malformed bearer token';
  }

  /** The `WWW-Authenticate` challenge(s) of a 401. */
  protected challenge(reason: Exclude<BearerResult, { ok: true }>['reason']): string | string[] {
    return reason === 'unknown_token' ? 'Bearer realm="jam-admin", error="invalid_token"' : 'Bearer realm="jam-admin"';
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const { allowed, address } = this.addresses.adminAllowed(req);
    const deny = async (reason: string, digest: string | null) => {
      this.metrics.authFailures.inc({ reason: `admin_${reason}` });
      this.logger.warn({ reason, client: address, tokenHash: digest?.slice(0, 12), method: req.method, path: req.path }, 'admin auth failure');
      await this.auditLog.append({
        actorTokenHash: digest === null ? null : `0x${digest}`,
        action: 'admin.auth',
        target: `${req.method} ${req.path}`,
        outcome: 'denied',
        details: { reason, client: address },
      });
    };
    if (queryTokenParam(req.originalUrl) !== undefined) {
      await deny('token_in_query', null);
      throw new DomainError('invalid_request', 'tokens are not accepted in the query string; send Authorization: Bearer <token>');
    }
    if (!allowed) {
      await deny('ip_not_allowed', null);
      throw new DomainError('forbidden', 'this address may not use the admin API');
    }
    const result = this.authenticate(req);
    if (!result.ok) {
      await deny(result.reason, result.digest);
      res.setHeader('WWW-Authenticate', this.challenge(result.reason));
      throw new DomainError('unauthorized', result.reason === 'unknown_token' ? 'not an admin token' : this.missingCredentialMessage());
    }
    Object.assign(req, { principal: result.match.principal, tokenHash: result.match.digest.slice(0, 12), tokenDigest: result.match.digest, isAdmin: true });
    return true;
  }
}
