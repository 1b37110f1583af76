import * as path from 'node:path';
import { redactConfig, type AppConfig } from '@jam/config';
import type { Logger } from '@jam/telemetry';
import { createDataSource, runMigrations, startEmbeddedPostgres, EMBEDDED_POSTGRES_POOL_SIZE, type Repositories } from '@jam/persistence';
import {
  assertRedisNoEviction,
  checkRedisReachable,
  createBullMqQueue,
  createInProcessQueue,
  createInProcessStatusEventBus,
  createRedisStatusEventBus,
  RedisEvictionPolicyError,
  type JobQueue,
  type StatusEventBus,
} from '@jam/queue';
import { BlobStoreOwnershipError, bindBlobStore, FilesystemBlobStore, S3BlobStore, TieredBlobStore, type StoreMarkerAccess } from '@jam/blob-store';
import { StartupError } from './startup.error';

/** A shutdown step. */
type Stop = () => Promise<void>;
/** The process's TypeORM DataSource (as `@jam/persistence` creates it). */
export type JamDataSource = ReturnType<typeof createDataSource>;

/**
 * Opens the process's database: embedded PGlite behind a local socket (embedded mode) or
 * `DATABASE_URL`, then runs the migrations. Registers the close steps on `stops`.
 * @throws StartupError naming DATABASE_URL (redacted) and the fix for a missing database, a refused
 *   login or an unreachable server; the driver's error otherwise
 */
export async function openDatabase(config: AppConfig, stops: Stop[]): Promise<JamDataSource> {
  let databaseUrl = config.databaseUrl;
  let poolSize = 10;
  if (config.mode === 'embedded') {
    const pg = await startEmbeddedPostgres({ dataDir: config.dataDir });
    stops.push(() => pg.close());
    databaseUrl = pg.url;
    poolSize = EMBEDDED_POSTGRES_POOL_SIZE;
  }
  const ds = createDataSource({ url: databaseUrl!, poolSize });
  try {
    await ds.initialize();
  } catch (err) {
    if (config.mode === 'embedded') throw err;
    // operator mistakes get a message, not a driver stack trace
    const e = err as Error & { code?: string };
    const where = `DATABASE_URL (${redactConfig(config).databaseUrl})`;
    if (e.code === '3D000')
      throw new StartupError(`${e.message} at ${where}: create it first (e.g. \`createdb <name>\`; migrations then run at start) or fix DATABASE_URL`);
    if (e.code === '28P01' || e.code === '28000') throw new StartupError(`PostgreSQL refused the login at ${where}: ${e.message}`);
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT')
      throw new StartupError(`cannot reach PostgreSQL at ${where}: ${e.message}. Check DATABASE_URL and that PostgreSQL is running.`);
    throw err;
  }
  stops.push(() => ds.destroy());
  await runMigrations(ds);
  return ds;
}

/**
 * Production mode: Redis must answer and must not evict (an evicting Redis loses jobs, locks and
 * budgets silently: refuse it rather than run degraded, docs/observability.md).
 * @throws StartupError naming REDIS_URL (redacted) and the fix
 */
export async function checkRedis(config: AppConfig): Promise<void> {
  try {
    await checkRedisReachable(config.redisUrl!);
  } catch (err) {
    throw new StartupError(
      `cannot reach Redis at REDIS_URL (${redactConfig(config).redisUrl}): ${(err as Error).message}. Check REDIS_URL and that Redis is running.`,
    );
  }
  try {
    await assertRedisNoEviction(config.redisUrl!);
  } catch (err) {
    if (err instanceof RedisEvictionPolicyError) throw new StartupError(`Redis at REDIS_URL (${redactConfig(config).redisUrl}): ${err.message}`);
    throw err;
  }
}

/** The status event bus of the mode: in-process (embedded) or Redis pub/sub (production). */
export function openStatusEvents(config: AppConfig, logger: Logger): StatusEventBus {
  return config.mode === 'embedded'
    ? createInProcessStatusEventBus()
    : createRedisStatusEventBus({ redisUrl: config.redisUrl!, prefix: config.queuePrefix, onError: (err) => logger.warn({ err }, 'status event bus error') });
}

/** The job queue of the mode: in-process (embedded) or BullMQ on Redis (production). Its close is the caller's. */
export function openQueue(config: AppConfig, logger: Logger): JobQueue {
  return config.mode === 'embedded'
    ? createInProcessQueue({ onError: (err) => logger.error({ err }, 'queue error') })
    : createBullMqQueue({ redisUrl: config.redisUrl!, prefix: config.queuePrefix, onError: (err) => logger.error({ err }, 'queue error') });
}

/**
 * Opens the blob store (filesystem, plus S3 offload when configured) and binds every tier to this
 * database before any role uses it (see {@link bindBlobStores}).
 * @returns `blobs` (the store roles use) and `tiered` (S3 offload mode only)
 * @throws StartupError when a store belongs to another database
 */
export async function openBlobStores(
  config: AppConfig,
  repos: Pick<Repositories, 'storeIdentity' | 'preimages'>,
  logger: Logger,
  stops: Stop[],
): Promise<{ blobs: FilesystemBlobStore | TieredBlobStore; tiered?: TieredBlobStore }> {
  const fsBlobs = new FilesystemBlobStore(config.blobDir);
  const marked: [StoreMarkerAccess, string][] = [[fsBlobs, 'JAM_BLOB_DIR']];
  let tiered: TieredBlobStore | undefined;
  if (config.s3 !== undefined) {
    // S3 offload: blobs >= s3_offload_min_bytes go to the bucket (credentials stay in the client, never logged).
    const s3 = new S3BlobStore({ ...config.s3, spoolDir: path.join(config.blobDir, 's3-spool') });
    stops.push(async () => s3.close());
    tiered = new TieredBlobStore(fsBlobs, s3, config.s3.offloadMinBytes, (err, hash) =>
      logger.warn({ err, hash }, 'S3 offload failed; blob kept on the filesystem for the migrator'),
    );
    marked.push([s3, 'JAM_S3_ENDPOINT/JAM_S3_BUCKET/JAM_S3_PREFIX']);
  }
  await bindBlobStores(marked, repos, logger);
  return { blobs: tiered ?? fsBlobs, tiered };
}

/**
 * Binds every blob store (both tiers in S3 offload mode) to this database before any role uses
 * it: the store's marker `.jam-store-id` must name the database's store id, so two deployments
 * pointed at one blob dir or bucket prefix never sweep each other's blobs as orphans. A store
 * without a marker is marked when empty, or adopted when the database knows its blobs (an
 * upgrade from before markers). See `bindBlobStore` in libs/blob-store.
 * @throws StartupError naming the store, both ids and the fix when the store is another database's.
 */
async function bindBlobStores(
  stores: readonly [StoreMarkerAccess, string][],
  repos: Pick<Repositories, 'storeIdentity' | 'preimages'>,
  logger: Logger,
): Promise<void> {
  const storeId = await repos.storeIdentity.get();
  for (const [store, setting] of stores) {
    let binding;
    try {
      binding = await bindBlobStore(store, { storeId, setting, knownHashes: (hashes) => repos.preimages.existing(hashes) });
    } catch (err) {
      if (err instanceof BlobStoreOwnershipError) throw new StartupError(err.message);
      throw err;
    }
    if (binding === 'adopted')
      logger.warn(
        { store: store.location, marker: store.markerLocation, storeId },
        'blob store had no marker (made before store binding) and holds blobs this database knows: adopted it',
      );
    else if (binding === 'created') logger.info({ store: store.location, marker: store.markerLocation, storeId }, 'new blob store: wrote its marker');
  }
}
