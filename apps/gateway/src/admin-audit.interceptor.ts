import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DomainError } from '@jam/domain';
import { AuditLogRepository } from '@jam/persistence';
import { AuthSettings } from './gateway.providers';
import type { AuthedRequest } from './bearer-token.guard';
import { ClientAddressPolicy } from './client-address';

const ADMIN_ACTION = 'jam:admin-action';

/** Names the audited action of an admin handler (`delegate.add`, `dispute.resolve`, ...). */
export const AdminAction = (action: string) => SetMetadata(ADMIN_ACTION, action);

/**
 * Writes one audit row for every admin request that passed {@link AdminTokenGuard}, after the
 * handler ran and before the response is sent: action, target (method and path), outcome
 * (`success`, or `failure` with the error code), the admin's token SHA-256 and principal, the
 * client address. A failed audit write fails the request (an admin action must not go unrecorded).
 */
@Injectable()
export class AdminAuditInterceptor implements NestInterceptor {
  private readonly addresses: ClientAddressPolicy;

  constructor(
    settings: AuthSettings,
    private readonly auditLog: AuditLogRepository,
    private readonly reflector: Reflector,
  ) {
    this.addresses = new ClientAddressPolicy(settings.trustedProxies, settings.adminIpAllowlist);
  }

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const action = this.reflector.get<string | undefined>(ADMIN_ACTION, ctx.getHandler()) ?? `admin.${ctx.getHandler().name}`;
    const record = (outcome: string, details: Record<string, string | number | boolean | null>) =>
      this.auditLog.append({
        actorTokenHash: req.tokenDigest === null ? null : `0x${req.tokenDigest}`,
        action,
        target: `${req.method} ${req.path}`,
        outcome,
        details: { principal: req.principal, client: this.addresses.clientAddress(req), ...details },
      });
    return from(
      (async () => {
        let value: unknown;
        try {
          value = await lastValueFrom(next.handle(), { defaultValue: undefined });
        } catch (err) {
          await record('failure', { error: err instanceof DomainError ? err.code : 'internal' });
          throw err;
        }
        await record('success', {});
        return value;
      })(),
    );
  }
}
