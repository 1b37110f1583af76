import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { DomainError } from '@jam/domain';
import { AuditLogRepository } from '@jam/persistence';
import { JamMetrics, type Logger } from '@jam/telemetry';
import { AuthSettings, LOGGER } from './gateway.providers';
import { TokenDigestVerifier, type TokenMatch } from './token-digest.verifier';
import { createBearerAuthenticator, queryTokenParam, type BearerResult } from './bearer-authenticator';
import { ClientAddressPolicy } from './client-address';

export { tokenDigest } from './token-digest.verifier';

/** Who a bearer token belongs to. `principal` is the configured name of the token's owner. */
export interface Principal {
  principal: string;
  /** First 12 hex chars of sha256(token), safe to log. */
  tokenHash: string;
  /** Full sha256 hex of the token, for the audit log (never the token); null without a token. */
  tokenDigest: string | null;
  /** An admin token (from an allowlisted address): passes per-service authorization. */
  isAdmin: boolean;
}

/** A request after authentication. */
export interface AuthedRequest extends Request, Principal {}

/**
 * Bearer authentication for `/jam/*` (`auth_required`, `allowed_tokens`; threat model
 * "Unauthorized Access"), for every method including HEAD and OPTIONS. The token comes from the
 * `Authorization` header only (scheme in any case, the parser the rate limiter uses too);
 * {@link TokenDigestVerifier} compares its SHA-256 digest with every configured digest in
 * constant time. A credential-like query parameter, in any spelling or percent-encoding, is
 * refused (400) before anything else. 401 carries `WWW-Authenticate: Bearer`.
 *
 * An admin token (`admin_tokens`) is also accepted here, as principal `admin:<name>` with
 * `isAdmin`, but only from an `admin_ip_allowlist` address (else 403), and every such request is
 * written to the audit log.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly tenants: TokenDigestVerifier;
  private readonly admins: TokenDigestVerifier;
  private readonly addresses: ClientAddressPolicy;
  private readonly authenticateHeader: (req: IncomingMessage) => BearerResult;

  constructor(
    private readonly settings: AuthSettings,
    private readonly metrics: JamMetrics,
    private readonly auditLog: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.tenants = new TokenDigestVerifier(settings.tokenDigests);
    this.admins = new TokenDigestVerifier(settings.adminTokenDigests);
    this.addresses = new ClientAddressPolicy(settings.trustedProxies, settings.adminIpAllowlist);
    this.authenticateHeader = createBearerAuthenticator((token) => {
      // Both lists are always checked so timing does not tell a tenant token from an admin one.
      const tenant = this.tenants.match(token);
      const admin = this.admins.match(token);
      return tenant ?? (admin && { principal: `admin:${admin.principal}`, digest: admin.digest });
    });
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const res = ctx.switchToHttp().getResponse<Response>();
    if (queryTokenParam(req.originalUrl) !== undefined) {
      this.metrics.authFailures.inc({ reason: 'token_in_query' });
      throw new DomainError('invalid_request', 'tokens are not accepted in the query string; send Authorization: Bearer <token>');
    }
    Object.assign(req, await this.authenticate(req, `${req.method} ${req.path}`, (name, value) => res.setHeader(name, value)));
    return true;
  }

  /**
   * The principal of a request from its `Authorization` header (the checks above; also the JIP-2
   * RPC upgrade request's). An admin token's use is audited with `target`.
   * @param setHeader receives `WWW-Authenticate` on a 401
   * @throws DomainError('unauthorized' | 'forbidden')
   */
  async authenticate(req: IncomingMessage, target: string, setHeader: (name: string, value: string) => void): Promise<Principal> {
    if (!this.settings.authRequired) return { principal: 'anonymous', tokenHash: '-', tokenDigest: null, isAdmin: false };
    const result = this.authenticateHeader(req);
    if (!result.ok) {
      this.metrics.authFailures.inc({ reason: result.reason });
      if (result.reason === 'unknown_token') {
        this.logger.warn({ tokenHash: result.digest?.slice(0, 12), target }, 'auth failure: unknown token');
        setHeader('WWW-Authenticate', 'Bearer realm="jam", error="invalid_token"');
        throw new DomainError('unauthorized', 'unknown bearer token');
      }
      setHeader('WWW-Authenticate', 'Bearer realm="jam"');
      throw new DomainError('unauthorized', 'missing or malformed bearer token');
    }
    const m: TokenMatch = result.match;
    const isAdmin = m.principal.startsWith('admin:');
    if (isAdmin) {
      const { allowed, address } = this.addresses.adminAllowed(req);
      await this.auditLog.append({
        actorTokenHash: `0x${m.digest}`,
        action: 'jam.admin_access',
        target,
        outcome: allowed ? 'allowed' : 'denied',
        details: { principal: m.principal, client: address, ...(allowed ? {} : { reason: 'ip_not_allowed' }) },
      });
      if (!allowed) {
        this.metrics.authFailures.inc({ reason: 'admin_ip_not_allowed' });
        throw new DomainError('forbidden', 'admin tokens are accepted only from admin_ip_allowlist addresses');
      }
    }
    return { principal: m.principal, tokenHash: m.digest.slice(0, 12), tokenDigest: m.digest, isAdmin };
  }
}
