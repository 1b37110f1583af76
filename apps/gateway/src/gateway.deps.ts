import type { Queue } from 'bullmq';
import type { BlobStore } from '@jam/blob-store';
import type { JobQueue, StatusEventBus } from '@jam/queue';
import type {
  AttestationRepository,
  AttesterRepository,
  AuditLogRepository,
  ExportedSegmentRepository,
  PrincipalQuotaRepository,
  PreimageRepository,
  ServiceRepository,
  ServiceStorageRepository,
  WorkPackageRepository,
  WorkReportRepository,
} from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';
import type { RateLimitOptions } from './rate-limit';
import type { RequestLimits } from './request-limits';
import type { CodeCheckLimits } from './code-check.limiter';

/**
 * Everything the gateway uses, built once by the gateway role module. `GatewayModule.forRoot` turns
 * each part into a provider (`gateway.providers.ts`: repositories by class, ports by token,
 * settings as `AuthSettings` and `GatewayLimits`); only the parts named at {@link GATEWAY_DEPS}
 * still inject the whole object. The gateway never runs guest code.
 */
/**
 * Injection token of the whole `GatewayDeps`, for the one controller that still takes the bag (the
 * queue board: its hooks on the admin guard and the lazily opened queue handles); every other
 * controller and service takes the providers of gateway.providers.ts. The JIP-2 RPC methods are not
 * Nest providers: they get the bag and the Nest services directly (rpc/index.ts).
 */
export const GATEWAY_DEPS = Symbol('GATEWAY_DEPS');

export interface GatewayDeps {
  preimages: PreimageRepository;
  services: ServiceRepository;
  serviceStorage: ServiceStorageRepository;
  workPackages: WorkPackageRepository;
  workReports: WorkReportRepository;
  /** Exported segments, for the import check at submission (package-dependencies.ts). */
  exportedSegments: ExportedSegmentRepository;
  attesters: AttesterRepository;
  attestations: AttestationRepository;
  blobs: BlobStore;
  queue: JobQueue;
  /** Package status notifications, streamed by GET /jam/packages/{hash}/events. */
  events: StatusEventBus;
  metrics: JamMetrics;
  logger: Logger;
  /**
   * Checks service code at registration OFF this process's event loop (the launcher runs it in a
   * sandbox executor: validate, meter, compile every function, instantiate; docs/sandbox.md).
   * Resolves when the code will compile and instantiate in an executor as it does at run time.
   * @param codeHash 0x-hex Blake2b-256 of `code`
   * @throws DomainError('invalid_code', reason, { reason }) when it will not
   */
  checkServiceCode: (codeHash: string, code: Uint8Array) => Promise<void>;
  /** Per-principal and per-process bounds on concurrent code checks (429 past them). */
  codeChecks: CodeCheckLimits;
  /** principal -> sha256 hex digest of its bearer token */
  tokenDigests: ReadonlyMap<string, string>;
  authRequired: boolean;
  /** Per-service authorization on /jam/* (`authz_enabled`). */
  authzEnabled: boolean;
  /** admin principal -> sha256 hex digest of its admin token (`admin_tokens`); empty = admin API closed. */
  adminTokenDigests: ReadonlyMap<string, string>;
  /** IPs/CIDRs allowed to use admin tokens (`admin_ip_allowlist`). */
  adminIpAllowlist: readonly string[];
  /** IPs/CIDRs of proxies whose X-Forwarded-For is believed (`trusted_proxies`). */
  trustedProxies: readonly string[];
  auditLog: AuditLogRepository;
  principalQuotas: PrincipalQuotaRepository;
  attesterCount: number;
  attestationThreshold: number;
  /** bytes */
  maxPreimageBytes: number;
  maxPendingPackages: number;
  /** Retries one failed package may have (`max_package_retries`, >= 0). */
  maxPackageRetries: number;
  /** `max_concurrent_uploads`: preimage uploads in flight per principal in this process (admin override per principal). */
  maxConcurrentUploads: number;
  /** `max_stored_preimage_bytes`: bytes of stored preimages per principal (admin override per principal). */
  maxStoredPreimageBytes: number;
  /** Per-token, per-IP, admin and auth-failure budgets (docs/architecture.md section 9). */
  rateLimit: RateLimitOptions;
  /** URL and header caps, request and body-idle timeouts. */
  requestLimits: RequestLimits;
  /** Readiness probes of the backing stores; each resolves or throws. */
  readiness: Record<string, () => Promise<void>>;
  /**
   * Opens (once; later calls return the same) the BullMQ queue handles the queue board at
   * `/admin/queues` shows (read-only; README "Queue board"), refine-a0, refine-express-a0, .. first. Called on the
   * board's first request, so a gateway nobody opens the board on holds no extra connection.
   * Absent with the in-process queue (embedded mode), where the board answers 404 `not_found`.
   */
  openBoardQueues?: () => readonly Queue[];
}
