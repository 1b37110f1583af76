export { createDataSource, runMigrations, PERSISTENCE_ENTITIES, PERSISTENCE_MIGRATIONS, type DataSourceOptions } from './data-source';
export { startEmbeddedPostgres, EMBEDDED_POSTGRES_POOL_SIZE, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded-postgres';
export { PreimageEntity, type PreimageStorageTier } from './entities/preimage.entity';
export { ServiceEntity } from './entities/service.entity';
export { ServiceStorageEntity } from './entities/service-storage.entity';
export { WorkPackageEntity, WORK_PACKAGE_STATUSES, IN_FLIGHT_WORK_PACKAGE_STATUSES, type WorkPackageStatus } from './entities/work-package.entity';
export { WorkReportEntity } from './entities/work-report.entity';
export { AttesterEntity } from './entities/attester.entity';
export { AttestationEntity } from './entities/attestation.entity';
export { AccumulationEntity, ACCUMULATION_STATUSES, type AccumulationStatus } from './entities/accumulation.entity';
export { AccumulationAttemptEntity } from './entities/accumulation-attempt.entity';
export { RefineAttemptEntity } from './entities/refine-attempt.entity';
export { RefineAttemptRepository, type RefineAttemptRecord, type RefineFailureKind, type RefineFailureResult } from './repositories/refine-attempt.repository';
export { AuditLogEntity, type JsonValue } from './entities/audit-log.entity';
export { PreimageUploaderEntity } from './entities/preimage-uploader.entity';
export { PrincipalQuotaEntity } from './entities/principal-quota.entity';
export { PreimageRepository, PREIMAGE_GC_MAX_BATCH, type PreimageRecord } from './repositories/preimage.repository';
export { WorkPackagePreimageEntity } from './entities/work-package-preimage.entity';
export { extrinsicHashesOf } from './package-preimage-refs';
export { ServiceRepository, SERVICE_LIST_MAX_LIMIT, type ServiceRecord } from './repositories/service.repository';
export { ServiceStorageRepository } from './repositories/service-storage.repository';
export {
  WorkPackageRepository,
  WORK_PACKAGE_LIST_MAX_LIMIT,
  type WorkPackageRecord,
  type WorkPackageSummary,
  type WorkPackageTransitionFields,
  type PackageRetryResult,
} from './repositories/work-package.repository';
export { WorkReportRepository, CURRENT_HASH_FORMAT, type WorkReportRecord } from './repositories/work-report.repository';
export { ExportedSegmentRepository, type SegmentAddress } from './repositories/exported-segment.repository';
export { ExportedSegmentEntity } from './entities/exported-segment.entity';
export type { GuestLogEntry } from './entities/work-report.entity';
export { AttesterRepository, type AttesterRecord } from './repositories/attester.repository';
export { AttestationRepository, type AttestationRecord } from './repositories/attestation.repository';
export {
  AccumulationRepository,
  OPTIMISTIC_ACCUMULATE_ATTEMPTS,
  type AccumulateOutcome,
  type ServiceStorageState,
  type StorageFootprint,
  type StorageWrite,
  type WallClockFailureResult,
  type SandboxFailureResult,
} from './repositories/accumulation.repository';
export { AuditLogRepository, AUDIT_LOG_LIST_MAX_LIMIT, type AuditLogRecord } from './repositories/audit-log.repository';
export {
  PrincipalQuotaRepository,
  PRINCIPAL_QUOTA_LIST_MAX_LIMIT,
  type PrincipalQuotaRecord,
  type PrincipalQuotaPatch,
} from './repositories/principal-quota.repository';
export { StoreIdentityEntity } from './entities/store-identity.entity';
export { StoreIdentityRepository } from './repositories/store-identity.repository';
export { createRepositories, type Repositories } from './repository-set';
export { isDatabaseUnavailable } from './database-unavailable';
export {
  GpStateRepository,
  GpStateLimitError,
  type GpStateLoadLimits,
  type GpAccountInfo,
  type GpAccountState,
  type GpAccumulationRecord,
  type GpAccumulationRow,
  type GpPrivileges,
  type GpReadyRecordRow,
  type GpStateSnapshot,
} from './repositories/gp-state.repository';
