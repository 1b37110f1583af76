import * as fs from 'node:fs';
import * as http from 'node:http';
import * as lockfile from 'proper-lockfile';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, redactConfig, type AppConfig } from '@jam/config';
import { initHashing } from '@jam/domain';
import { createLogger, JamMetrics, startTracing, withJobSpan, type Logger } from '@jam/telemetry';
import { createDataSource, createRepositories, runMigrations, startEmbeddedPostgres, EMBEDDED_POSTGRES_POOL_SIZE, type Repositories } from '@jam/persistence';
import {
  assertRedisNoEviction,
  checkRedisReachable,
  createBullMqQueue,
  createRedisReadinessProbe,
  RedisEvictionPolicyError,
  createInProcessQueue,
  createInProcessStatusEventBus,
  createRedisStatusEventBus,
  PermanentJobError,
  consume,
  type StatusEventBus,
  type ConsumedJob,
  type JobHandler,
  type JobQueue,
} from '@jam/queue';
import { ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, ATTESTATION_QUEUE, REFINE_PACKAGE_V1, VERIFY_ATTESTATION_V1, refineQueueName } from '@jam/queue-contracts';
import { BlobStoreOwnershipError, bindBlobStore, FilesystemBlobStore, S3BlobStore, TieredBlobStore, type StoreMarkerAccess } from '@jam/blob-store';
import { loadOrCreateAttesterKeys } from '@jam/attest';
import { MAX_SERVICE_CODE_BYTES, SandboxPool, SandboxExecutorError } from '@jam/sandbox';
import { DomainError, toHex } from '@jam/domain';
import { RefineProcessor } from '../../refine-worker/src';
import { AttestationProcessor } from '../../attestation/src';
import { AccumulateProcessor } from '../../accumulate-worker/src';
import { Janitor } from '../../janitor/src';
import { StatusPublishingWorkPackageRepository } from './status-publishing.repository';
import { startGateway, tokenDigest } from '../../gateway/src';

/** A running process: every role it was asked to run, and how to stop them in order. */
export interface RunningJam {
  config: AppConfig;
  /** Bound HTTP port when the gateway role runs. */
  port?: number;
  /** Path of the generated dev token, when one was created or reused. */
  devTokenFile?: string;
  stop(): Promise<void>;
}

/**
 * The composition root (the only module that imports apps): reads the config, opens the stores
 * the selected roles need, and starts those roles. Embedded mode (no DATABASE_URL/REDIS_URL)
 * runs PGlite behind a local socket and the in-process queue, with the same processors.
 * @throws ConfigError for a bad setting; Error when a store cannot be opened.
 */
export async function launch(env: Readonly<Record<string, string | undefined>>, opts: { logDestination?: NodeJS.WritableStream } = {}): Promise<RunningJam> {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, destination: opts.logDestination as never });
  const metrics = new JamMetrics();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
  };
  try {
    logger.info({ config: redactConfig(config) }, 'starting');
    const has = (role: string) => config.roles.includes(role as never);
    // Gateway tokens are read and checked before anything is created (database schema, blob-store
    // marker, queue keys), so a boot refused for missing tokens leaves nothing behind.
    const tokens = new Map(Object.entries(config.allowedTokenDigests));
    if (has('gateway')) {
      if (config.allowedTokensFile) {
        for (const [principal, digest] of readTokenFile(config.allowedTokensFile)) tokens.set(principal, digest);
      }
      if (config.authRequired && tokens.size === 0 && config.mode !== 'embedded') {
        throw new StartupError(
          'auth_required is true but no allowed_tokens are configured: set JAM_ALLOWED_TOKENS (principal=sha256hex) or JAM_ALLOWED_TOKENS_FILE, or JAM_AUTH_REQUIRED=false for a closed network',
        );
      }
    }
    // First in, so last out: spans of the other roles' shutdown still get flushed. The process entry
    // (main.ts) has started tracing already, before these imports loaded pg and ioredis, and then
    // this is a no-op; it matters where launch() is embedded in another program (tests).
    const serviceName = config.roles.length === 1 ? `jam-${config.roles[0]}` : 'jam';
    stops.push(startTracing({ serviceName, otlpEndpoint: config.otlpEndpoint, enabled: config.otlpEndpoint !== undefined }));
    await initHashing();
    // 0700 when new: database, blobs, keys and dev token are closed to the sandbox executors' user (docs/sandbox.md)
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    if (config.mode === 'embedded') stops.push(await lockDataDir(config.dataDir, config.port, (message) => logger.warn(message)));

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

    if (config.mode === 'production') {
      try {
        await checkRedisReachable(config.redisUrl!);
      } catch (err) {
        throw new StartupError(
          `cannot reach Redis at REDIS_URL (${redactConfig(config).redisUrl}): ${(err as Error).message}. Check REDIS_URL and that Redis is running.`,
        );
      }
      // An evicting Redis loses jobs, locks and budgets silently: refuse it rather than run degraded (docs/observability.md).
      try {
        await assertRedisNoEviction(config.redisUrl!);
      } catch (err) {
        if (err instanceof RedisEvictionPolicyError) throw new StartupError(`Redis at REDIS_URL (${redactConfig(config).redisUrl}): ${err.message}`);
        throw err;
      }
    }
    const events: StatusEventBus =
      config.mode === 'embedded'
        ? createInProcessStatusEventBus()
        : createRedisStatusEventBus({
            redisUrl: config.redisUrl!,
            prefix: config.queuePrefix,
            onError: (err) => logger.warn({ err }, 'status event bus error'),
          });
    stops.push(() => events.close());
    const repos = { ...createRepositories(ds), workPackages: new StatusPublishingWorkPackageRepository(ds, events) };
    const queue: JobQueue =
      config.mode === 'embedded'
        ? createInProcessQueue({ onError: (err) => logger.error({ err }, 'queue error') })
        : createBullMqQueue({ redisUrl: config.redisUrl!, prefix: config.queuePrefix, onError: (err) => logger.error({ err }, 'queue error') });
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
    const blobs = tiered ?? fsBlobs;
    await bindBlobStores(marked, repos, logger);

    let sandbox: SandboxPool | undefined;
    if (has('refine-worker') || has('accumulate-worker')) {
      sandbox = new SandboxPool({
        size: config.sandboxPoolSize,
        expressSize: config.sandboxExpressExecutors,
        wallClockMs: config.sandboxWallClockMs,
        uid: config.sandboxUid,
        gid: config.sandboxGid,
      });
      await sandbox.start();
      stops.push(() => sandbox!.close());
      const fallback = sandbox.identityFallback();
      if (fallback !== undefined) logger.warn({ setting: 'sandbox_uid' }, `sandbox executors do not run as an unprivileged user: ${fallback}`);
    }
    // Stops run in reverse: the queue closes (waiting for jobs in flight) before the sandbox they use.
    stops.push(() => queue.close());
    // Metrics and a CONSUMER span per job, the span a child of the enqueuer's (docs/architecture.md section 12, habit 10).
    const instrument =
      (queueName: string, handler: JobHandler): JobHandler =>
      (job: ConsumedJob) =>
        withJobSpan({ queue: queueName, name: job.name, id: job.id, attempt: job.attempt, traceContext: job.traceContext }, async (span) => {
          if (job.attempt === 1 && job.readyAt !== undefined) metrics.queueWait.observe({ queue: queueName }, Math.max(0, Date.now() - job.readyAt) / 1000);
          const end = metrics.jobDuration.startTimer({ queue: queueName, name: job.name });
          try {
            await handler(job);
            metrics.jobs.inc({ queue: queueName, name: job.name, outcome: 'completed' });
            span.setAttribute('jam.job.outcome', 'completed');
          } catch (err) {
            const final = err instanceof PermanentJobError || (err as Error).name === 'MalformedJobError';
            metrics.jobs.inc({ queue: queueName, name: job.name, outcome: final ? 'failed' : 'retry' });
            span.setAttribute('jam.job.outcome', final ? 'failed' : 'retry');
            logger.warn({ err, queue: queueName, jobId: job.id, attempt: job.attempt, final }, 'job failed');
            throw err;
          } finally {
            end();
          }
        });

    if (has('refine-worker')) {
      const keys = loadOrCreateAttesterKeys(config.keysDir, config.attesterIndexes);
      for (const key of keys) await repos.attesters.upsert(key.index, toHex(key.publicKey));
      const processor = new RefineProcessor({
        ...repos,
        blobs,
        sandbox: sandbox!,
        queue,
        keys: new Map(keys.map((k) => [k.index, k])),
        metrics,
        logger,
        maxSandboxFailures: config.maxSandboxFailures,
        attesterCount: config.attesters,
        threshold: config.attestationThreshold,
      });
      for (const key of keys) {
        const name = refineQueueName(key.index);
        consume(
          queue,
          name,
          { [REFINE_PACKAGE_V1]: (job) => processor.handle(job) },
          { concurrency: config.refineConcurrency, wrap: (h) => instrument(name, h) },
        );
      }
    }
    if (has('attestation')) {
      const processor = new AttestationProcessor({ ...repos, queue, threshold: config.attestationThreshold, attesterCount: config.attesters, metrics, logger });
      consume(
        queue,
        ATTESTATION_QUEUE,
        { [VERIFY_ATTESTATION_V1]: (job) => processor.handle(job) },
        { concurrency: 4, wrap: (h) => instrument(ATTESTATION_QUEUE, h) },
      );
    }
    if (has('accumulate-worker')) {
      const processor = new AccumulateProcessor({
        ...repos,
        blobs,
        sandbox: sandbox!,
        metrics,
        logger,
        storageQuota: { maxBytes: config.maxServiceStorageBytes, maxItems: config.maxServiceStorageItems },
        maxAccumulateTimeouts: config.maxAccumulateTimeouts,
        maxSandboxFailures: config.maxSandboxFailures,
      });
      consume(
        queue,
        ACCUMULATE_QUEUE,
        { [ACCUMULATE_REPORT_V1]: (job) => processor.handle(job) },
        {
          concurrency: config.accumulateConcurrency,
          wrap: (h) => instrument(ACCUMULATE_QUEUE, h),
        },
      );
    }
    if (has('janitor')) {
      const janitor = new Janitor(
        { ...repos, blobs, tiered, queue, attesterCount: config.attesters, threshold: config.attestationThreshold, metrics, logger },
        {
          intervalMs: config.reconcileIntervalMs,
          staleMs: config.reconcileStaleMs,
          bootStaleMs: config.mode === 'embedded' ? 0 : config.reconcileStaleMs,
          retentionDays: config.retentionDays,
          retentionIntervalMs: config.retentionIntervalMs,
          retentionBatchSize: config.retentionBatchSize,
          preimageGcGraceHours: config.preimageGcGraceHours,
          preimageGcIntervalMs: config.preimageGcIntervalMs,
          blobHygieneIntervalMs: config.blobHygieneIntervalMs,
          blobVerifySample: config.blobVerifySample,
          s3MigrateBatch: config.s3?.migrateBatch,
        },
      );
      await janitor.start();
      stops.push(async () => janitor.stop());
    }

    let port: number | undefined;
    let devTokenFile: string | undefined;
    if (has('gateway')) {
      if (config.authRequired && tokens.size === 0) {
        // embedded mode only (production was refused above)
        devTokenFile = path.join(config.dataDir, 'dev-token');
        tokens.set('dev', tokenDigest(readOrCreateDevToken(devTokenFile)));
      }
      const adminTokens = new Map(Object.entries(config.adminTokenDigests));
      if (config.adminTokensFile) {
        for (const [principal, digest] of readTokenFile(config.adminTokensFile)) adminTokens.set(principal, digest);
      }
      // Readiness writes to Redis: a Redis that refuses writes (OOM, MISCONF, READONLY) makes this gateway not ready.
      const redisProbe = config.mode === 'production' ? createRedisReadinessProbe(config.redisUrl!, config.queuePrefix) : undefined;
      if (redisProbe) stops.push(() => redisProbe.close());
      // Registration checks run in executors of their own, never on the gateway's event loop and
      // never queued behind (or ahead of) refine and accumulate jobs (docs/sandbox.md).
      const checks = new SandboxPool({
        size: config.codeCheckPoolSize,
        wallClockMs: config.sandboxWallClockMs,
        uid: config.sandboxUid,
        gid: config.sandboxGid,
      });
      await checks.start();
      stops.push(() => checks.close());
      const checkFallback = checks.identityFallback();
      if (checkFallback !== undefined) logger.warn({ setting: 'sandbox_uid' }, `code-check executors do not run as an unprivileged user: ${checkFallback}`);
      const tenantDigests = new Set(tokens.values());
      if ([...adminTokens.values()].some((d) => tenantDigests.has(d)))
        throw new Error('an admin token is also an allowed /jam token; admin_tokens must be separate tokens');
      const gateway = await startGateway(
        {
          ...repos,
          blobs,
          queue,
          events,
          metrics,
          logger,
          checkServiceCode: (codeHash, code) => checkServiceCode(checks, codeHash, code, logger),
          codeChecks: {
            maxPerPrincipal: config.maxCodeChecksPerPrincipal,
            maxQueued: config.maxQueuedCodeChecks,
            retryAfterSeconds: Math.max(1, Math.ceil(config.sandboxWallClockMs / 1000)),
          },
          tokenDigests: tokens,
          authRequired: config.authRequired,
          authzEnabled: config.authzEnabled,
          adminTokenDigests: adminTokens,
          adminIpAllowlist: config.adminIpAllowlist,
          trustedProxies: config.trustedProxies,
          attesterCount: config.attesters,
          attestationThreshold: config.attestationThreshold,
          maxPreimageBytes: config.maxPreimageBytes,
          maxPendingPackages: config.maxPendingPackages,
          maxPackageRetries: config.maxPackageRetries,
          maxConcurrentUploads: config.maxConcurrentUploads,
          maxStoredPreimageBytes: config.maxStoredPreimageBytes,
          rateLimit: {
            perMinute: config.rateLimitPerMinute,
            adminPerMinute: config.adminRateLimitPerMinute,
            authFailuresPerMinute: config.authFailureLimitPerMinute,
            // Shared by every gateway replica on this Redis and prefix; in memory when embedded (one process).
            redis: config.mode === 'production' ? { url: config.redisUrl!, keyPrefix: `${config.queuePrefix}:rl` } : undefined,
          },
          requestLimits: {
            maxUrlBytes: config.maxUrlBytes,
            maxHeaderBytes: config.maxHeaderBytes,
            requestTimeoutMs: config.requestTimeoutMs,
            headersTimeoutMs: config.headersTimeoutMs,
            bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
          },
          readiness: {
            database: async () => void (await ds.query('SELECT 1')),
            queue: async () => {
              await queue.counts(ATTESTATION_QUEUE);
              await redisProbe?.check();
            },
            blob_store: async () => void (await blobs.has(`0x${'0'.repeat(64)}`)),
          },
        },
        {
          host: config.host,
          port: config.port,
          rpc:
            config.rpcPort === 0
              ? undefined
              : {
                  port: config.rpcPort,
                  maxMessageBytes: config.rpcMaxMessageBytes,
                  idleTimeoutMs: config.rpcIdleTimeoutMs,
                  maxConnectionsPerPrincipal: config.rpcMaxConnectionsPerPrincipal,
                  maxSubscriptionsPerConnection: config.rpcMaxSubscriptionsPerConnection,
                },
        },
      ).catch((err: NodeJS.ErrnoException & { port?: number }) => {
        if (err.code === 'EADDRINUSE' && config.rpcPort !== 0 && err.port === config.rpcPort && config.rpcPort !== config.port)
          throw new StartupError(`JIP-2 RPC port ${config.rpcPort} on ${config.host} is in use; set JAM_RPC_PORT to a free port, or 0 for no RPC listener`);
        if (err.code === 'EADDRINUSE')
          throw new StartupError(
            `port ${config.port} on ${config.host} is in use; set JAM_PORT to a free port (and JAM_URL=http://127.0.0.1:<port> for the CLI)`,
          );
        throw err;
      });
      stops.push(() => gateway.close());
      port = gateway.port;
      if (gateway.rpcPort !== undefined) logger.info({ rpcPort: gateway.rpcPort }, 'JIP-2 RPC listening');
    }
    if (!has('gateway') && config.metricsPort !== undefined) {
      const listener = await startMetricsListener(metrics, config.host, config.metricsPort);
      stops.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    }
    // Reachability of the database and (production) Redis from this process, for the
    // JamDatabaseUnreachable / JamRedisUnreachable alerts: every process probes, so a partition
    // that cuts off only some pods shows too. A probe that has not answered in 5 s counts as down.
    const probes: Record<string, () => Promise<unknown>> = { database: () => ds.query('SELECT 1') };
    if (config.mode === 'production') probes['redis'] = () => queue.counts(ATTESTATION_QUEUE);
    const probe = async () => {
      for (const [dependency, run] of Object.entries(probes)) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('probe timed out after 5000 ms')), 5_000);
        });
        try {
          await Promise.race([run(), timeout]);
          metrics.dependencyUp.set({ dependency }, 1);
        } catch (err) {
          metrics.dependencyUp.set({ dependency }, 0);
          logger.warn({ err, dependency }, 'backing store probe failed');
        } finally {
          clearTimeout(timer);
        }
      }
    };
    const probeTimer = setInterval(() => void probe(), 10_000);
    probeTimer.unref();
    void probe();
    stops.push(async () => clearInterval(probeTimer));
    // Queue depth for dashboards and the growing-queue alert, sampled by whichever process runs the janitor.
    if (has('janitor')) {
      const queues = [...Array.from({ length: config.attesters }, (_, i) => refineQueueName(i)), ATTESTATION_QUEUE, ACCUMULATE_QUEUE];
      const sample = async () => {
        for (const q of queues) {
          try {
            const c = await queue.counts(q);
            metrics.queueDepth.set({ queue: q, state: 'waiting' }, c.waiting);
            metrics.queueDepth.set({ queue: q, state: 'delayed' }, c.delayed);
            metrics.queueDepth.set({ queue: q, state: 'active' }, c.active);
            metrics.queueDepth.set({ queue: q, state: 'failed' }, c.failed);
          } catch (err) {
            logger.warn({ err, queue: q }, 'queue depth sample failed');
          }
        }
      };
      const timer = setInterval(() => void sample(), 10_000);
      timer.unref();
      void sample();
      stops.push(async () => clearInterval(timer));
    }
    logger.info({ roles: config.roles, mode: config.mode, port }, 'started');
    return { config, port, devTokenFile, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
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

/**
 * The gateway's registration check (GatewayDeps.checkServiceCode): the code goes to an executor of
 * `pool`, which validates, meters, compiles every function and instantiates it under the same
 * heap, stack and wall clock as a job. Fails closed: an executor that dies during the check
 * (typically its heap ran out) refuses the code too, since the first job would die the same way.
 * @throws DomainError('invalid_code', reason, { reason }) when the code would not run; Error when
 *   the pool is closed or has no executor (a 500: the server's problem, not the code's)
 */
async function checkServiceCode(pool: SandboxPool, codeHash: string, code: Uint8Array, logger: Logger): Promise<void> {
  if (code.length > MAX_SERVICE_CODE_BYTES) {
    const reason = `code is ${code.length} bytes, over the ${MAX_SERVICE_CODE_BYTES}-byte limit (GP W_C)`;
    throw new DomainError('invalid_code', reason, { reason });
  }
  let reason: string;
  try {
    const outcome = await pool.check(codeHash, code);
    if (outcome.valid) return;
    reason = outcome.reason;
    if (outcome.timedOut === true) logger.warn({ codeHash, reason }, 'registration check hit the wall clock; code refused');
  } catch (err) {
    if (!(err instanceof SandboxExecutorError)) throw err;
    logger.warn({ codeHash, error: err.message }, 'sandbox executor died while checking service code; code refused');
    reason = `checking the code stopped the executor (${err.message.replace(/^sandbox executor failed: /, '')}); it would stop it at run time too`;
  }
  throw new DomainError('invalid_code', reason, { reason });
}

/** A startup failure with a message meant for the operator (printed without a stack trace). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** ms after its last refresh that the data directory lock counts as stale (taken over). */
const DATA_DIR_LOCK_STALE_MS = 15_000;
/** ms between refreshes of the data directory lock by its holder. */
const DATA_DIR_LOCK_UPDATE_MS = 5_000;

/**
 * Embedded mode owns its data directory: a second process on the same directory would run a
 * second PGlite on the same files and lose acknowledged work. proper-lockfile holds
 * `<dataDir>/lock` (refreshed every 5 s, taken over when stale for 15 s);
 * `<dataDir>/lock.owner.json` names the holder. A start that finds the lock held by a process
 * that no longer runs (a crash or SIGKILL left the lock behind; the owner file is missing, or
 * names a dead pid or this process's own pid, as after a container restart) waits up to 20 s for
 * that lock to go stale and takes it over, so an immediate restart after a crash succeeds; a live
 * holder is never waited for.
 * @throws StartupError when another live process holds the directory.
 */
async function lockDataDir(dataDir: string, port: number, onWait: (message: string) => void): Promise<() => Promise<void>> {
  const ownerFile = path.join(dataDir, 'lock.owner.json');
  const options: lockfile.LockOptions = {
    lockfilePath: path.join(dataDir, 'lock'),
    realpath: false,
    stale: DATA_DIR_LOCK_STALE_MS,
    update: DATA_DIR_LOCK_UPDATE_MS,
    onCompromised: (err) => {
      process.stderr.write(`jam: lost the lock on ${dataDir} (${err.message}); stopping to protect the data\n`);
      process.exit(1);
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    let owner: { pid?: number; port?: number } | undefined;
    try {
      owner = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as { pid?: number; port?: number };
    } catch {
      /* owner file missing: the holder died before writing it */
    }
    const holder = owner ? `pid ${owner.pid} (port ${owner.port})` : 'another process';
    const inUse = () => new StartupError(`data directory ${dataDir} is in use by ${holder}; stop it, or give this instance its own JAM_DATA_DIR`);
    if (typeof owner?.pid === 'number' && owner.pid !== process.pid && isProcessAlive(owner.pid)) throw inUse();
    // The holder is gone but its lock is not stale yet: wait for it (a live holder elsewhere keeps refreshing it, and we give up).
    onWait(`data directory ${dataDir} is locked by ${holder}, which is not running here; waiting for its lock to expire`);
    try {
      const tries = Math.ceil((DATA_DIR_LOCK_STALE_MS + DATA_DIR_LOCK_UPDATE_MS) / 1000);
      release = await lockfile.lock(dataDir, { ...options, retries: { retries: tries, factor: 1, minTimeout: 1000, maxTimeout: 1000 } });
    } catch (retryErr) {
      if ((retryErr as NodeJS.ErrnoException).code === 'ELOCKED') throw inUse();
      throw retryErr;
    }
  }
  fs.writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, port }));
  return async () => {
    fs.rmSync(ownerFile, { force: true });
    await release();
  };
}

/** True if a process with this pid exists (EPERM: it exists but belongs to another user). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `/healthz` and `/metrics` for worker-only processes (the gateway serves them on its own port). */
function startMetricsListener(metrics: JamMetrics, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"only /healthz and /metrics here"}}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Reads `principal token` lines (plain tokens from a secret mount) and hashes them. */
function readTokenFile(file: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [n, line] of fs.readFileSync(file, 'utf8').split('\n').entries()) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Za-z0-9_.@-]{1,64})\s+(\S{16,512})$/.exec(t);
    if (!m) throw new Error(`${file}:${n + 1}: expected "<principal> <token>" with a token of at least 16 characters`);
    out.push([m[1]!, tokenDigest(m[2]!)]);
  }
  return out;
}

/** The embedded mode's development token: created once (0600), reused on restart. */
function readOrCreateDevToken(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const token = `jam_dev_${randomBytes(24).toString('base64url')}`;
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}
