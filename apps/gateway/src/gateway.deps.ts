import type { BlobStore } from '@jam/blob-store';
import type { JobQueue } from '@jam/queue';
import type {
  AttestationRepository,
  AttesterRepository,
  PreimageRepository,
  ServiceRepository,
  ServiceStorageRepository,
  WorkPackageRepository,
  WorkReportRepository,
} from '@jam/persistence';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** Injection token of `GatewayDeps`. */
export const GATEWAY_DEPS = Symbol('GATEWAY_DEPS');

/** Everything the gateway uses, built once by the launcher. The gateway never runs guest code. */
export interface GatewayDeps {
  preimages: PreimageRepository;
  services: ServiceRepository;
  serviceStorage: ServiceStorageRepository;
  workPackages: WorkPackageRepository;
  workReports: WorkReportRepository;
  attesters: AttesterRepository;
  attestations: AttestationRepository;
  blobs: BlobStore;
  queue: JobQueue;
  metrics: JamMetrics;
  logger: Logger;
  /** Validates service code at registration (pure; never instantiates or runs it). @throws DomainError('invalid_code') */
  validateServiceCode: (code: Uint8Array) => void;
  /** principal -> sha256 hex digest of its bearer token */
  tokenDigests: ReadonlyMap<string, string>;
  authRequired: boolean;
  attesterCount: number;
  attestationThreshold: number;
  /** bytes */
  maxPreimageBytes: number;
  maxPendingPackages: number;
  /** Readiness probes of the backing stores; each resolves or throws. */
  readiness: Record<string, () => Promise<void>>;
}
