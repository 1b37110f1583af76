import type { InjectionToken, Provider } from '@nestjs/common';
import {
  AttestationRepository,
  AttesterRepository,
  AuditLogRepository,
  PreimageRepository,
  PrincipalQuotaRepository,
  ExportedSegmentRepository,
  ServiceRepository,
  ServiceStorageRepository,
  WorkPackageRepository,
  WorkReportRepository,
} from '@jam/persistence';
import { JamMetrics } from '@jam/telemetry';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway.deps';
import { CodeCheckLimiter } from './code-check.limiter';

/** Injection token of the gateway's `BlobStore` (`@jam/blob-store`). */
export const BLOB_STORE = Symbol('BLOB_STORE');
/** Injection token of the gateway's `JobQueue` (`@jam/queue`): it only enqueues. */
export const JOB_QUEUE = Symbol('JOB_QUEUE');
/** Injection token of the `StatusEventBus` the status streams subscribe to. */
export const STATUS_EVENTS = Symbol('STATUS_EVENTS');
/** Injection token of the pino `Logger`. */
export const LOGGER = Symbol('LOGGER');
/** Injection token of {@link GatewayDeps.checkServiceCode} (the registration check, run in a sandbox executor). */
export const SERVICE_CODE_CHECK = Symbol('SERVICE_CODE_CHECK');
/** Injection token of the readiness probes (name -> probe) that `GET /readyz` runs. */
export const READINESS_PROBES = Symbol('READINESS_PROBES');

/** The registration check: resolves when the code will compile and instantiate; @throws DomainError('invalid_code'). */
export type ServiceCodeCheck = GatewayDeps['checkServiceCode'];

/**
 * Who may call what (docs/architecture.md section 9): token digests, `auth_required`,
 * `authz_enabled`, the admin allowlist and the trusted proxies. A class only as an injection token.
 */
export abstract class AuthSettings {
  /** principal -> sha256 hex digest of its bearer token */
  abstract readonly tokenDigests: ReadonlyMap<string, string>;
  /** admin principal -> sha256 hex digest of its admin token (`admin_tokens`); empty = admin API closed */
  abstract readonly adminTokenDigests: ReadonlyMap<string, string>;
  abstract readonly authRequired: boolean;
  /** per-service authorization on /jam/* (`authz_enabled`) */
  abstract readonly authzEnabled: boolean;
  /** IPs/CIDRs allowed to use admin tokens (`admin_ip_allowlist`) */
  abstract readonly adminIpAllowlist: readonly string[];
  /** IPs/CIDRs of proxies whose X-Forwarded-For is believed (`trusted_proxies`) */
  abstract readonly trustedProxies: readonly string[];
}

/** The pipeline settings and quotas the API enforces. A class only as an injection token. */
export abstract class GatewayLimits {
  abstract readonly attesterCount: number;
  abstract readonly attestationThreshold: number;
  /** bytes (`max_preimage_bytes`) */
  abstract readonly maxPreimageBytes: number;
  abstract readonly maxPendingPackages: number;
  /** retries one failed package may have (`max_package_retries`, >= 0) */
  abstract readonly maxPackageRetries: number;
  /** preimage uploads in flight per principal in this process (`max_concurrent_uploads`) */
  abstract readonly maxConcurrentUploads: number;
  /** bytes of stored preimages per principal (`max_stored_preimage_bytes`) */
  abstract readonly maxStoredPreimageBytes: number;
}

/**
 * Turns what the launcher built into Nest providers: each repository under its class, the ports
 * under the tokens above, the settings as {@link AuthSettings} and {@link GatewayLimits}. Factories
 * (not values) so a partial `deps` (a test that only reads the router) still builds the module.
 */
export function gatewayProviders(deps: GatewayDeps): Provider[] {
  const value = (provide: InjectionToken, get: () => unknown): Provider => ({ provide, useFactory: get });
  return [
    value(PreimageRepository, () => deps.preimages),
    value(ServiceRepository, () => deps.services),
    value(ServiceStorageRepository, () => deps.serviceStorage),
    value(WorkPackageRepository, () => deps.workPackages),
    value(WorkReportRepository, () => deps.workReports),
    value(AttesterRepository, () => deps.attesters),
    value(AttestationRepository, () => deps.attestations),
    value(AuditLogRepository, () => deps.auditLog),
    value(PrincipalQuotaRepository, () => deps.principalQuotas),
    value(ExportedSegmentRepository, () => deps.exportedSegments),
    value(GATEWAY_DEPS, () => deps),
    value(JamMetrics, () => deps.metrics),
    value(BLOB_STORE, () => deps.blobs),
    value(JOB_QUEUE, () => deps.queue),
    value(STATUS_EVENTS, () => deps.events),
    value(LOGGER, () => deps.logger),
    value(SERVICE_CODE_CHECK, () => deps.checkServiceCode),
    value(READINESS_PROBES, () => deps.readiness),
    value(CodeCheckLimiter, () => new CodeCheckLimiter(deps.codeChecks)),
    value(AuthSettings, (): AuthSettings => ({
      tokenDigests: deps.tokenDigests,
      adminTokenDigests: deps.adminTokenDigests,
      authRequired: deps.authRequired,
      authzEnabled: deps.authzEnabled,
      adminIpAllowlist: deps.adminIpAllowlist,
      trustedProxies: deps.trustedProxies,
    })),
    value(GatewayLimits, (): GatewayLimits => ({
      attesterCount: deps.attesterCount,
      attestationThreshold: deps.attestationThreshold,
      maxPreimageBytes: deps.maxPreimageBytes,
      maxPendingPackages: deps.maxPendingPackages,
      maxPackageRetries: deps.maxPackageRetries,
      maxConcurrentUploads: deps.maxConcurrentUploads,
      maxStoredPreimageBytes: deps.maxStoredPreimageBytes,
    })),
  ];
}
