import type { AppConfig, AppRole } from '@jam/config';
import type { JamMetrics, Logger } from '@jam/telemetry';
import type { Repositories } from '@jam/persistence';
import type { JobHandler, JobQueue, StatusEventBus } from '@jam/queue';
import type { BlobStore, BlobStoreMaintenance, TieredBlobStore } from '@jam/blob-store';

/**
 * What every role of one process shares, opened once by {@link startRoles} before any role
 * starts: the validated config, logger and metrics, the database (migrated), the work-package
 * repository that publishes status events, the job queue, and the blob store bound to this
 * database (docs/architecture.md section 3).
 */
export interface RoleHost {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: JamMetrics;
  /** Repositories on the process's DataSource; `workPackages` publishes a status event after each committed change. */
  readonly repos: Repositories;
  readonly events: StatusEventBus;
  readonly queue: JobQueue;
  /** The blob store every role reads and writes: the tiered store in S3 offload mode, else the filesystem one. */
  readonly blobs: BlobStore & BlobStoreMaintenance;
  /** The tiered store in S3 offload mode (`blobs` is then this store), for the janitor's S3 migrator. */
  readonly tiered?: TieredBlobStore;
  /** `SELECT 1` on the process's database (readiness and the reachability probe). @throws the driver's error when it is down */
  pingDatabase(): Promise<void>;
  /**
   * Metrics and a CONSUMER span per job of `queueName`, the span a child of the enqueuer's
   * (docs/architecture.md section 12, habit 10): pass as `consume(..., { wrap: host.instrument(name) })`.
   */
  instrument(queueName: string): (handler: JobHandler) => JobHandler;
  /**
   * Registers a step of the shutdown. Steps run in reverse order of registration, all of them
   * before the queue closes (so nothing still enqueues once it is gone).
   */
  onStop(stop: () => Promise<void>): void;
  /**
   * Registers a shutdown step that runs after the queue has closed, i.e. after every job in flight
   * finished: resources those jobs use (sandbox pools).
   */
  afterDrain(stop: () => Promise<void>): void;
  /**
   * One resource shared by every role of this process that asks for `key` (e.g. the sandbox pool
   * of refine and accumulate): created by the first caller's `create`, reused by the others.
   */
  shared<T>(key: string, create: () => Promise<T>): Promise<T>;
}

/** What a started role reports back to the process entry (the gateway: its port and dev token). */
export interface RoleStarted {
  /** Bound HTTP port of the gateway. */
  port?: number;
  /** Path of the embedded mode's generated dev token, when one was created or reused. */
  devTokenFile?: string;
}

/**
 * One runtime role (an app of docs/architecture.md section 3) as {@link startRoles} composes it.
 * The same module runs alone (`node dist/apps/<role>/src/main.js`) and beside the others in
 * the embedded launcher. A fresh module per process: it may keep state between `prepare` and `start`.
 */
export interface RoleModule {
  readonly role: AppRole;
  /**
   * Checks that need nothing opened yet (e.g. the gateway's tokens), run before any store is
   * created, so a refused boot leaves no database schema, blob-store marker or queue keys behind.
   * @throws StartupError (or ConfigError) naming the fix
   */
  prepare?(config: AppConfig): void | Promise<void>;
  /** Starts the role on the shared stores; registers its shutdown with `host.onStop`. */
  start(host: RoleHost): Promise<RoleStarted | void>;
}
