import { Queue, UnrecoverableError, Worker, createPostgresBackend, runMigrations, type Job } from 'bullmq';
import { Client } from 'pg';
import IORedis from 'ioredis';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { assertJobPriority, defaultJobOptions, type JobName, type JobOptionsPolicy, type JobPayload } from '@jam/queue-contracts';
import type { JobEnqueueOptions, JobHandler, JobQueue, JobQueueDriverOptions, QueueCounts } from './job-queue.port';
import { isFinalJobError, toError } from './permanent-job.error';
import { captureTraceContext, parseTraceContext } from './trace-carrier';

/**
 * WARNING: the Redis key prefix is part of every queued job's keys. Changing it (or a deployment
 * running with another one) strands the jobs already queued under the old prefix.
 */
export const DEFAULT_REDIS_PREFIX = 'jam';

export interface BullMqQueueOptions extends JobQueueDriverOptions {
  /** `redis://[user:pass@]host:port[/db]`. */
  redisUrl: string;
  /** Redis key prefix; default {@link DEFAULT_REDIS_PREFIX}. */
  prefix?: string;
  /** Called with a loud message when Redis may evict keys (maxmemory-policy not noeviction). */
  onWarning?: (message: string) => void;
  /** Optional queue-depth gauge: called after each completed/failed job of a consumed queue. */
  onDepth?: (queue: string, counts: QueueCounts) => void;
}

export interface BullMqPostgresQueueOptions extends JobQueueDriverOptions {
  /** `postgres://user@host:port/db`. */
  databaseUrl: string;
  /**
   * WARNING: the schema holds every queued job; changing it strands them. On PGlite only
   * `public` worked (docs/architecture.md section 13).
   */
  schema: string;
  /**
   * Run BullMQ's schema migrations when a connection opens. Default `false`: migrations are an
   * explicit deploy step ({@link migrateBullMqPostgresSchema}); without them every call fails
   * with BullMQ's `SchemaMigrationRequiredError`.
   */
  migrate?: boolean;
}

/**
 * Creates or upgrades BullMQ's tables in `schema` (idempotent; BullMQ takes an advisory lock).
 * @returns the schema version after the call.
 */
export async function migrateBullMqPostgresSchema(opts: { databaseUrl: string; schema: string }): Promise<number> {
  const client = new Client({ connectionString: opts.databaseUrl });
  await client.connect();
  try {
    return await runMigrations(client, opts.schema);
  } finally {
    await client.end();
  }
}

/** The parts of BullMQ's Queue/Worker this driver uses, identical across backends. */
interface QueueLike {
  add(name: string, data: unknown, opts: Record<string, unknown>): Promise<unknown>;
  getJobState(jobId: string): Promise<string>;
  remove(jobId: string): Promise<number>;
  getJobCounts(...types: Array<'waiting' | 'prioritized' | 'active' | 'delayed' | 'failed'>): Promise<Record<string, number>>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void>;
}
interface WorkerLike {
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'completed' | 'failed', listener: () => void): unknown;
  close(): Promise<void>;
}
interface Backend {
  newQueue(name: string): QueueLike;
  newWorker(name: string, processor: (job: Job) => Promise<void>, concurrency: number): WorkerLike;
  /** Closes connections the driver owns, after every Queue and Worker is closed. */
  dispose(): Promise<void>;
}

const QUEUED_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/**
 * BullMQ on Redis, the production driver (docs/architecture.md section 4). Queue calls use one shared
 * connection that fails fast; each Worker gets its own connection with
 * `maxRetriesPerRequest: null` as BullMQ requires. Lock renewal and stalled-job recovery keep
 * BullMQ's defaults. At start it reads `maxmemory-policy` and warns through `onWarning`
 * (default: `onError`) unless it is `noeviction`: an evicted job is a lost job.
 */
export function createBullMqQueue(opts: BullMqQueueOptions): JobQueue {
  const onError = opts.onError ?? defaultOnError;
  const prefix = opts.prefix ?? DEFAULT_REDIS_PREFIX;
  const producer = new IORedis(opts.redisUrl, { lazyConnect: false });
  producer.on('error', onError);
  const workerConnections: IORedis[] = [];
  const warn = opts.onWarning ?? ((message: string) => onError(new Error(message)));
  void checkRedisEvictionPolicy(producer).then((message) => {
    if (message !== undefined) warn(message);
  });
  const backend: Backend = {
    newQueue: (name) => new Queue(name, { connection: producer, prefix }),
    newWorker: (name, processor, concurrency) => {
      const connection = new IORedis(opts.redisUrl, { maxRetriesPerRequest: null });
      connection.on('error', onError);
      workerConnections.push(connection);
      return new Worker(name, processor, { connection, prefix, concurrency });
    },
    dispose: async () => {
      await Promise.allSettled([producer, ...workerConnections].map((c) => c.quit()));
    },
  };
  return new BullMqJobQueue(backend, opts, opts.onDepth);
}

/**
 * BullMQ 6.7's PostgreSQL backend (no Redis). Same semantics as {@link createBullMqQueue};
 * each Queue and Worker owns a small `pg` pool in `schema`, created by BullMQ's migrations.
 */
export function createBullMqPostgresQueue(opts: BullMqPostgresQueueOptions): JobQueue {
  const connection = { connectionString: opts.databaseUrl, schema: opts.schema, max: 4, migrate: opts.migrate ?? false };
  const backend: Backend = {
    newQueue: (name) => new Queue(name, { connection }, createPostgresBackend),
    newWorker: (name, processor, concurrency) => new Worker(name, processor, { connection, concurrency }, createPostgresBackend),
    dispose: async () => undefined,
  };
  return new BullMqJobQueue(backend, opts);
}

/**
 * Reads Redis `maxmemory-policy`: `CONFIG GET`, or the `maxmemory_policy` line of `INFO memory`
 * where CONFIG is disabled (managed Redis, ACL users without +config).
 * @returns the policy, or undefined when neither answer names it.
 */
export async function readRedisEvictionPolicy(redis: IORedis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && reply.length >= 2) return String(reply[1]);
  } catch {
    /* CONFIG refused: try INFO */
  }
  try {
    return /^maxmemory_policy:(\S+)/m.exec(await redis.info('memory'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Reads Redis `maxmemory-policy`. Returns a warning message unless it is `noeviction`
 * (docs/architecture.md section 4), or `undefined` when it is fine.
 */
export async function checkRedisEvictionPolicy(redis: IORedis): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    policy = await readRedisEvictionPolicy(redis);
  } catch (err) {
    return `WARNING: could not read Redis maxmemory-policy (${toError(err).message}); make sure it is "noeviction" (docs/architecture.md section 4).`;
  }
  if (policy === 'noeviction') return undefined;
  if (policy === undefined)
    return 'WARNING: could not read Redis maxmemory-policy (CONFIG and INFO refused); make sure it is "noeviction" (docs/architecture.md section 4).';
  return `WARNING: Redis maxmemory-policy is ${JSON.stringify(policy)}, not "noeviction": Redis may evict queued jobs under memory pressure. Set maxmemory-policy noeviction (docs/architecture.md section 4).`;
}

/**
 * Refuses an evicting Redis at start: reads `maxmemory-policy` over one short-lived connection
 * and throws unless it is `noeviction` (docs/architecture.md section 4). An evicting Redis drops queued jobs,
 * job locks (a job then runs twice) and rate-limit budgets without an error, so a process does
 * not start on one. A policy that cannot be read (CONFIG and INFO both refused) passes, with the
 * queue's warning at start.
 * @returns the policy read, or undefined when it could not be read.
 * @throws RedisEvictionPolicyError for any other policy; Error when Redis cannot be reached.
 */
export async function assertRedisNoEviction(redisUrl: string, timeoutMs = 5000): Promise<string | undefined> {
  const client = new IORedis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const policy = await readRedisEvictionPolicy(client);
    if (policy !== undefined && policy !== 'noeviction') throw new RedisEvictionPolicyError(policy);
    return policy;
  } finally {
    client.disconnect();
  }
}

/** Redis would evict keys under memory pressure (`maxmemory-policy` is not `noeviction`). */
export class RedisEvictionPolicyError extends Error {
  override name = 'RedisEvictionPolicyError';

  constructor(readonly policy: string) {
    super(
      `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis would silently drop queued jobs, job locks and rate-limit budgets. ` +
        "Set it with `CONFIG SET maxmemory-policy noeviction` (and in redis.conf, or your provider's parameter group), then start again.",
    );
  }
}

/** A readiness probe of a Redis: see {@link createRedisReadinessProbe}. */
export interface RedisReadinessProbe {
  /**
   * Resolves when Redis accepts a write and still runs `noeviction`.
   * @throws Error naming the refusal (`OOM command not allowed ...`, `READONLY ...`, `MISCONF ...`,
   *   `NOPERM ...`), the eviction policy, or the connection error.
   */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Readiness of the Redis behind the queue: reads pass while writes are refused (maxmemory reached
 * under `noeviction`, a failed RDB save with `stop-writes-on-bgsave-error`, a read-only replica
 * after a failover, an ACL without write rights), and then no package can be enqueued. Each check
 * writes one small key, `<prefix>:readyz` (expires after 60 s), and re-reads the eviction policy
 * (someone may `CONFIG SET` it at runtime). Own connection that fails fast (no offline queue).
 * WARNING: the key lives under the queue prefix; deployments sharing a prefix share it (harmless).
 */
export function createRedisReadinessProbe(redisUrl: string, prefix: string): RedisReadinessProbe {
  const client = new IORedis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  return {
    async check() {
      if (client.status === 'wait' || client.status === 'end') await client.connect().catch(() => undefined);
      await client.set(`${prefix}:readyz`, String(Date.now()), 'PX', 60_000);
      const policy = await readRedisEvictionPolicy(client);
      if (policy !== undefined && policy !== 'noeviction') throw new Error(`maxmemory-policy is "${policy}", not "noeviction"`);
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

function defaultOnError(err: Error): void {
  console.error('[jam/queue bullmq]', err);
}

class BullMqJobQueue implements JobQueue {
  private readonly queues = new Map<string, QueueLike>();
  private readonly workers = new Map<string, WorkerLike>();
  private readonly policyFor: (queue: string) => JobOptionsPolicy;
  private readonly onError: (err: Error) => void;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    opts: JobQueueDriverOptions,
    private readonly onDepth?: (queue: string, counts: QueueCounts) => void,
  ) {
    this.policyFor = opts.jobOptions ?? defaultJobOptions;
    this.onError = opts.onError ?? defaultOnError;
  }

  async enqueue<N extends JobName>(queue: string, name: N, payload: JobPayload<N>, opts: JobEnqueueOptions): Promise<void> {
    if (opts.priority !== undefined) assertJobPriority(opts.priority);
    const policy = this.policyFor(queue);
    // The trace carrier rides in BullMQ's own `opts.telemetry.metadata` (persisted as `tm`), so the
    // versioned payload stays exactly the schema. We never set BullMQ's Queue `telemetry`, so
    // BullMQ leaves the field alone.
    const carrier = captureTraceContext();
    const telemetry = carrier !== undefined ? { telemetry: { metadata: JSON.stringify(carrier) } } : {};
    // BullMQ returns the existing job for a jobId that still exists: that is the dedupe.
    // BullMQ orders its prioritized set by (priority, insertion counter); a retried job goes back
    // into it with the same priority. No priority = its wait list, served before that set.
    const priority = opts.priority !== undefined ? { priority: opts.priority } : {};
    await this.queue(queue).add(name, payload, { ...policy, ...telemetry, ...priority, jobId: opts.jobId, delay: opts.delayMs ?? 0 });
  }

  async isQueued(queue: string, jobId: string): Promise<boolean> {
    return QUEUED_STATES.has(await this.queue(queue).getJobState(jobId));
  }

  async removeFailed(queue: string, jobId: string): Promise<boolean> {
    const q = this.queue(queue);
    if ((await q.getJobState(jobId)) !== 'failed') return false;
    return (await q.remove(jobId)) === 1;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const c = await this.queue(queue).getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    return {
      waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
      active: c['active'] ?? 0,
      delayed: c['delayed'] ?? 0,
      failed: c['failed'] ?? 0,
    };
  }

  process(queue: string, handler: JobHandler, opts: { concurrency: number }): void {
    if (this.closing !== undefined) throw new Error('queue is closed');
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    if (this.workers.has(queue)) throw new Error(`queue ${queue} already has a consumer`);
    const worker = this.backend.newWorker(
      queue,
      async (job) => {
        try {
          const traceContext = parseTraceContext(job.opts.telemetry?.metadata);
          const readyAt = typeof job.timestamp === 'number' ? job.timestamp + (job.opts.delay ?? 0) : undefined;
          await handler({
            id: String(job.id),
            name: job.name as JobName,
            payload: job.data,
            attempt: job.attemptsMade + 1,
            ...(traceContext !== undefined ? { traceContext } : {}),
            ...(readyAt !== undefined ? { readyAt } : {}),
          });
        } catch (caught) {
          const err = toError(caught);
          // MalformedJobError / PermanentJobError -> UnrecoverableError, BullMQ's "do not retry".
          if (isFinalJobError(err) && err.name !== 'UnrecoverableError') {
            throw new UnrecoverableError(`${err.name}: ${err.message}`);
          }
          throw err;
        }
      },
      opts.concurrency,
    );
    worker.on('error', this.onError);
    if (this.onDepth !== undefined) {
      const report = (): void => {
        this.counts(queue).then((c) => this.onDepth?.(queue, c), this.onError);
      };
      worker.on('completed', report);
      worker.on('failed', report);
    }
    this.workers.set(queue, worker);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    // Worker.close waits for the active jobs of this worker; queues close after.
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.backend.dispose();
  }

  private queue(name: string): QueueLike {
    if (this.closing !== undefined) throw new Error('queue is closed');
    let q = this.queues.get(name);
    if (q === undefined) {
      // Created outside the caller's trace: the Queue's own set-up commands (version check, meta)
      // belong to no request or job, and nothing it starts later should inherit one.
      q = context.with(ROOT_CONTEXT, () => this.backend.newQueue(name));
      q.on('error', this.onError);
      this.queues.set(name, q);
    }
    return q;
  }
}

/**
 * Checks once that Redis answers PING within `timeoutMs` (ms), so a process with a wrong
 * `REDIS_URL` fails at start with a clear error instead of starting and logging reconnect errors
 * forever. One short-lived connection, no retries.
 * @throws Error naming the cause (ECONNREFUSED, timeout, auth error); the URL is not included.
 */
export async function checkRedisReachable(redisUrl: string, timeoutMs = 5000): Promise<void> {
  const client = new IORedis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: Error | undefined;
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    // the socket's own error (ECONNREFUSED, ENOTFOUND, WRONGPASS) says more than ioredis' "Connection is closed."
    throw new Error((cause ?? (err as Error)).message.replace(/\.$/, ''));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    client.disconnect();
  }
}

/** BullMQ `Queue` handles for looking at queues (the operators' queue board), and their connection. */
export interface BullMqInspection {
  /** One handle per queue name, in the order given. */
  queues: Queue[];
  /** Closes every handle, then the connection. */
  close(): Promise<void>;
}

/**
 * Opens BullMQ `Queue` handles on Redis for inspection only: the queue board (README "Queue
 * board") reads counts, jobs and their data through them; nothing here adds, moves or removes a
 * job, and `skipMetasUpdate` keeps the handles from writing the queues' meta keys. They share one
 * connection of their own (not the driver's), so a slow board never queues behind job traffic.
 * @param opts.prefix Redis key prefix of the queues ({@link DEFAULT_REDIS_PREFIX} by default); the same as the driver's, or the board shows empty queues
 */
export function openBullMqInspection(opts: { redisUrl: string; prefix?: string; names: readonly string[]; onError?: (err: Error) => void }): BullMqInspection {
  const onError = opts.onError ?? defaultOnError;
  const connection = new IORedis(opts.redisUrl, { lazyConnect: false });
  connection.on('error', onError);
  const queues = opts.names.map((name) => {
    const q = new Queue(name, { connection, prefix: opts.prefix ?? DEFAULT_REDIS_PREFIX, skipMetasUpdate: true });
    q.on('error', onError);
    return q;
  });
  return {
    queues,
    close: async () => {
      await Promise.allSettled(queues.map((q) => q.close()));
      await connection.quit().catch(() => undefined);
    },
  };
}
