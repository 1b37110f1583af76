import * as fs from 'node:fs';
import { redactConfig, type AppConfig } from '@jam/config';
import { initHashing } from '@jam/domain';
import { createLogger, JamMetrics, startProcessTracing, type Logger } from '@jam/telemetry';
import { createRepositories } from '@jam/persistence';
import { ATTESTATION_QUEUE } from '@jam/queue-contracts';
import { lockDataDir } from './data-dir.lock';
import { startDependencyProbes } from './dependency.probes';
import { jobInstrumentation } from './job-instrumentation';
import type { RoleHost, RoleModule, RoleStarted } from './role-module';
import { StatusPublishingWorkPackageRepository } from './status-publishing.repository';
import { checkRedis, openBlobStores, openDatabase, openQueue, openStatusEvents } from './stores';
import { startMetricsListener } from './worker-health.listener';

/** A shutdown step. */
type Stop = () => Promise<void>;

/** A running process: every role it was asked to run, and how to stop them in order. */
export interface RunningJam {
  config: AppConfig;
  /** Bound HTTP port when the gateway role runs. */
  port?: number;
  /** Path of the generated dev token, when one was created or reused. */
  devTokenFile?: string;
  /** Stops the roles, then the queue (waiting for jobs in flight), then the stores; errors are logged, never thrown. */
  stop(): Promise<void>;
}

/**
 * Starts `roles` in one process (docs/architecture.md sections 3-4): runs each role's `prepare`
 * before anything is created, starts tracing (a no-op when the entry point already did), opens
 * the stores the roles share (data-dir lock and PGlite in embedded mode; database with
 * migrations; Redis checks in production; status events; queue; blob store bound to the
 * database), starts each role in the given order, then serves `/healthz` and `/metrics` on
 * `JAM_METRICS_PORT` when no gateway runs and probes the backing stores. A failed start stops
 * whatever was started.
 * @throws StartupError or ConfigError naming the fix; the store's error when one cannot be opened
 */
export async function startRoles(config: AppConfig, roles: readonly RoleModule[], opts: { logDestination?: NodeJS.WritableStream } = {}): Promise<RunningJam> {
  const logger = createLogger({ level: config.logLevel, destination: opts.logDestination as never });
  const metrics = new JamMetrics();
  const stops: Stop[] = [];
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
    for (const role of roles) await role.prepare?.(config);
    // First in, so last out: spans of the other roles' shutdown still get flushed. The process entry
    // (main.ts) has started tracing already, before these imports loaded pg and ioredis, and then
    // this is a no-op; it matters where the roles are started inside another program (tests).
    stops.push(startProcessTracing(config.roles, config.otlpEndpoint));
    const host = await openHost(config, logger, metrics, stops);
    const started: RoleStarted = {};
    for (const role of roles) Object.assign(started, await role.start(host));
    if (!config.roles.includes('gateway') && config.metricsPort !== undefined) {
      const listener = await startMetricsListener(metrics, config.host, config.metricsPort);
      stops.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    }
    const probes: Record<string, () => Promise<unknown>> = { database: () => host.pingDatabase() };
    if (config.mode === 'production') probes['redis'] = () => host.queue.counts(ATTESTATION_QUEUE);
    stops.push(startDependencyProbes(probes, metrics, logger));
    logger.info({ roles: config.roles, mode: config.mode, port: started.port }, 'started');
    return { config, port: started.port, devTokenFile: started.devTokenFile, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Opens what the roles share and returns the {@link RoleHost} over it. Shutdown order (steps run
 * in reverse): role steps, the queue (waiting for jobs in flight), `afterDrain` steps (sandbox
 * pools those jobs use), blob store, status events, database, PGlite, data-dir lock.
 */
async function openHost(config: AppConfig, logger: Logger, metrics: JamMetrics, stops: Stop[]): Promise<RoleHost> {
  await initHashing();
  // 0700 when new: database, blobs, keys and dev token are closed to the sandbox executors' user (docs/sandbox.md)
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.mode === 'embedded') stops.push(await lockDataDir(config.dataDir, config.port, (message) => logger.warn(message)));
  const ds = await openDatabase(config, stops);
  if (config.mode === 'production') await checkRedis(config);
  const events = openStatusEvents(config, logger);
  stops.push(() => events.close());
  const repos = { ...createRepositories(ds), workPackages: new StatusPublishingWorkPackageRepository(ds, events) };
  const { blobs, tiered } = await openBlobStores(config, repos, logger, stops);
  const queue = openQueue(config, logger);
  const drained: Stop[] = [];
  stops.push(async () => {
    for (const stop of drained.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
  });
  stops.push(() => queue.close());
  const shared = new Map<string, Promise<unknown>>();
  return {
    config,
    logger,
    metrics,
    repos,
    events,
    queue,
    blobs,
    tiered,
    pingDatabase: async () => void (await ds.query('SELECT 1')),
    instrument: jobInstrumentation(metrics, logger),
    onStop: (stop) => void stops.push(stop),
    afterDrain: (stop) => void drained.push(stop),
    shared: <T>(key: string, create: () => Promise<T>) => {
      if (!shared.has(key)) shared.set(key, create());
      return shared.get(key) as Promise<T>;
    },
  };
}
