import { DataSource, MigrationExecutor } from 'typeorm';
import { AccumulationEntity } from './entities/accumulation.entity';
import { AccumulationAttemptEntity } from './entities/accumulation-attempt.entity';
import { AttestationEntity } from './entities/attestation.entity';
import { AttesterEntity } from './entities/attester.entity';
import { AuditLogEntity } from './entities/audit-log.entity';
import { PreimageEntity } from './entities/preimage.entity';
import { ServiceStorageEntity } from './entities/service-storage.entity';
import { ServiceEntity } from './entities/service.entity';
import { WorkPackageEntity } from './entities/work-package.entity';
import { WorkReportEntity } from './entities/work-report.entity';
import { InitialSchema1760000000000 } from './migrations/1760000000000-initial-schema';
import { TenancyAndAdmin1761000000000 } from './migrations/1761000000000-tenancy-and-admin';
import { StorageRetention1762000000000 } from './migrations/1762000000000-storage-retention';
import { StoreIdentity1763000000000 } from './migrations/1763000000000-store-identity';
import { AccumulationAttempts1764000000000 } from './migrations/1764000000000-accumulation-attempts';
import { SandboxFailures1765000000000 } from './migrations/1765000000000-sandbox-failures';
import { PackageQueuePriority1766000000000 } from './migrations/1766000000000-package-queue-priority';
import { PackageRetries1766500000000 } from './migrations/1766500000000-package-retries';
import { GuestLogs1768500000000 } from './migrations/1768500000000-guest-logs';
import { UploadQuotasAndCorruptBlobs1766600000000 } from './migrations/1766600000000-upload-quotas-and-corrupt-blobs';
import { BlobFailures1767000000000 } from './migrations/1767000000000-blob-failures';
import { InFlightCounters1769000000000 } from './migrations/1769000000000-in-flight-counters';
import { ServiceStateVersion1770400000000 } from './migrations/1770400000000-service-state-version';
import { GpPartialState1770500000000 } from './migrations/1770500000000-gp-partial-state';
import { PrincipalInFlightEntity } from './entities/principal-in-flight.entity';
import { GpReportHashAndSegments1768000000000 } from './migrations/1768000000000-gp-report-hash-and-segments';
import { ExportedSegmentEntity } from './entities/exported-segment.entity';
import { RefineAttemptEntity } from './entities/refine-attempt.entity';
import { PreimageUploaderEntity } from './entities/preimage-uploader.entity';
import { PrincipalQuotaEntity } from './entities/principal-quota.entity';
import { WorkPackagePreimageEntity } from './entities/work-package-preimage.entity';
import { StoreIdentityEntity } from './entities/store-identity.entity';
import { GpAccountEntity } from './entities/gp-account.entity';
import { GpPreimageEntity } from './entities/gp-preimage.entity';
import { GpPreimageRequestEntity } from './entities/gp-preimage-request.entity';
import { GpChainStateEntity } from './entities/gp-chain-state.entity';
import { GpReadyRecordEntity } from './entities/gp-ready-record.entity';
import { GpAccumulatedEntity } from './entities/gp-accumulated.entity';
import { GpAccumulationOutputEntity } from './entities/gp-accumulation-output.entity';
import { GpAccumulateStatisticsEntity } from './entities/gp-accumulate-statistics.entity';

/** Every entity of the schema. */
export const PERSISTENCE_ENTITIES = [
  PreimageEntity,
  ServiceEntity,
  ServiceStorageEntity,
  WorkPackageEntity,
  WorkReportEntity,
  AttesterEntity,
  AttestationEntity,
  AccumulationEntity,
  AccumulationAttemptEntity,
  RefineAttemptEntity,
  AuditLogEntity,
  PreimageUploaderEntity,
  PrincipalQuotaEntity,
  WorkPackagePreimageEntity,
  StoreIdentityEntity,
  PrincipalInFlightEntity,
  ExportedSegmentEntity,
  GpAccountEntity,
  GpPreimageEntity,
  GpPreimageRequestEntity,
  GpChainStateEntity,
  GpReadyRecordEntity,
  GpAccumulatedEntity,
  GpAccumulationOutputEntity,
  GpAccumulateStatisticsEntity,
];

/** Every migration, oldest first. WARNING: append only; never edit or reorder an applied one. */
export const PERSISTENCE_MIGRATIONS = [
  InitialSchema1760000000000,
  TenancyAndAdmin1761000000000,
  StorageRetention1762000000000,
  StoreIdentity1763000000000,
  AccumulationAttempts1764000000000,
  SandboxFailures1765000000000,
  PackageQueuePriority1766000000000,
  PackageRetries1766500000000,
  UploadQuotasAndCorruptBlobs1766600000000,
  BlobFailures1767000000000,
  GpReportHashAndSegments1768000000000,
  GuestLogs1768500000000,
  InFlightCounters1769000000000,
  ServiceStateVersion1770400000000,
  GpPartialState1770500000000,
];

/** Options of {@link createDataSource}. */
export interface DataSourceOptions {
  /** `postgres://user@host:port/db`. */
  url: string;
  /**
   * Maximum connections in the pool (default 10). Use `1` (EMBEDDED_POSTGRES_POOL_SIZE) for the
   * embedded PGlite server: it has one backend session shared by every socket.
   */
  poolSize?: number;
  /** Log every SQL statement (default false). */
  logging?: boolean;
}

/**
 * Builds (does not connect) a TypeORM DataSource for PostgreSQL with every entity and migration.
 * Never synchronizes and never runs migrations on `initialize()`: call {@link runMigrations}
 * before the app starts serving (docs/architecture.md section 4: migrations are explicit).
 *
 * With `poolSize: 1` idle connections are never closed, so the single connection to an embedded
 * server is not dropped and re-opened (a re-open can race the server's one-connection limit).
 */
export function createDataSource(opts: DataSourceOptions): DataSource {
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError(`poolSize must be an integer >= 1, got ${poolSize}`);
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: PERSISTENCE_ENTITIES,
    migrations: PERSISTENCE_MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: opts.logging ?? false,
    poolSize,
    extra: { max: poolSize, idleTimeoutMillis: poolSize === 1 ? 0 : 10_000 },
  });
}

/** Arbitrary constant key of the advisory lock that serializes concurrent migration runs. */
const MIGRATION_LOCK_KEY = 7_205_513_310;

/**
 * Applies pending migrations, all in one transaction, holding a session advisory lock so two
 * processes starting together do not both apply them. Safe to call repeatedly.
 * Uses one connection only, so it works with `poolSize: 1`.
 * @returns the names of the migrations applied by this call (empty when up to date).
 * @throws whatever the database raises; the transaction is rolled back.
 */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  if (!ds.isInitialized) await ds.initialize();
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(ds, runner);
      executor.transaction = 'all';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
