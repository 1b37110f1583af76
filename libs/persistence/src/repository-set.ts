import type { DataSource } from 'typeorm';
import { AccumulationRepository } from './repositories/accumulation.repository';
import { AttestationRepository } from './repositories/attestation.repository';
import { AttesterRepository } from './repositories/attester.repository';
import { AuditLogRepository } from './repositories/audit-log.repository';
import { PrincipalQuotaRepository } from './repositories/principal-quota.repository';
import { RefineAttemptRepository } from './repositories/refine-attempt.repository';
import { PreimageRepository } from './repositories/preimage.repository';
import { ServiceStorageRepository } from './repositories/service-storage.repository';
import { ServiceRepository } from './repositories/service.repository';
import { StoreIdentityRepository } from './repositories/store-identity.repository';
import { WorkPackageRepository } from './repositories/work-package.repository';
import { WorkReportRepository } from './repositories/work-report.repository';
import { ExportedSegmentRepository } from './repositories/exported-segment.repository';
import { GpStateRepository } from './repositories/gp-state.repository';

/** Every repository over one DataSource. */
export interface Repositories {
  preimages: PreimageRepository;
  services: ServiceRepository;
  serviceStorage: ServiceStorageRepository;
  workPackages: WorkPackageRepository;
  workReports: WorkReportRepository;
  attesters: AttesterRepository;
  attestations: AttestationRepository;
  accumulations: AccumulationRepository;
  /** Sandbox failures per (package, attester) in refine. */
  refineAttempts: RefineAttemptRepository;
  auditLog: AuditLogRepository;
  principalQuotas: PrincipalQuotaRepository;
  /** The database's store id, which binds blob stores to it. */
  storeIdentity: StoreIdentityRepository;
  /** Segments exported by stored reports (GP W_G bytes each), by segments root or package hash and index. */
  exportedSegments: ExportedSegmentRepository;
  /** The GP 0.7.2 partial state of PVM services (accounts, preimages, requests, ready queue, history). */
  gpState: GpStateRepository;
}

/** Builds every repository over an initialised, migrated DataSource. */
export function createRepositories(ds: DataSource): Repositories {
  return {
    preimages: new PreimageRepository(ds),
    services: new ServiceRepository(ds),
    serviceStorage: new ServiceStorageRepository(ds),
    workPackages: new WorkPackageRepository(ds),
    workReports: new WorkReportRepository(ds),
    attesters: new AttesterRepository(ds),
    attestations: new AttestationRepository(ds),
    accumulations: new AccumulationRepository(ds),
    refineAttempts: new RefineAttemptRepository(ds),
    auditLog: new AuditLogRepository(ds),
    principalQuotas: new PrincipalQuotaRepository(ds),
    storeIdentity: new StoreIdentityRepository(ds),
    exportedSegments: new ExportedSegmentRepository(ds),
    gpState: new GpStateRepository(ds),
  };
}
