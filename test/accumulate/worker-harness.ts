/**
 * Shared setup of the worker-path e2e specs in this folder (accumulate limits, sandbox failures,
 * blob unavailable, package retry): a fresh PostgreSQL database with the migrations
 * (test/support/database.ts), a filesystem blob store and Redis (test/support/redis.ts), real
 * `jam` worker processes from the build, and the test standing in for refine + attestation (a
 * stored package and attested report, then the accumulate job). Everything is removed in
 * afterAll: processes, queues, Redis keys of every prefix used, the database and the temp dir.
 * Needs `npm run build` (processes and executors run dist/).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { blake2b256, encodeWorkPackage, encodeWorkReport, initHashing, packageHash, reportHash, toHex, type WorkPackage, type WorkReport } from '@jam/domain';
import type { Repositories, WorkPackageRecord } from '@jam/persistence';
import { FilesystemBlobStore } from '@jam/blob-store';
import { createBullMqQueue, type JobQueue } from '@jam/queue';
import { ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, accumulateJobId } from '@jam/queue-contracts';
import { ENGINE_IDENTITY } from '@jam/sandbox';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, freePort, untilProgress } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { createMigratedDatabase, type MigratedTestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis, type TestRedis } from '../support/redis';

export { REDIS_URL };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Worker processes started by the harnesses of this test file, alive or not: their work is the progress of every wait. */
const started: JamProcess[] = [];

/**
 * Polls `probe` every 100 ms until it returns a value. Bounded by progress: throws naming `what`
 * once no worker process of this file printed anything or used a second of CPU for `stallMs`
 * (a busy machine slows the workers down, it does not stop them).
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, stallMs = 120_000): Promise<T> {
  return untilProgress(what, probe, {
    progress: () => started.map((p) => p.progress()),
    stallMs,
    intervalMs: 100,
    diagnose: () => started.map((p, i) => `--- worker #${i} ---\n${p.tail(3000)}`).join('\n'),
  });
}

export async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** The Prometheus text of a process serving /metrics on `port`. */
export const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

/** Value of one exact series (`name{labels}`) in Prometheus text; 0 when absent. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export interface HarnessService {
  id: number;
  codeHash: Uint8Array;
}

/** The state and helpers of one spec file; fields are set by beforeAll. */
export class WorkerHarness {
  readonly suffix = randomBytes(4).toString('hex');
  tmp!: string;
  redis!: Redis;
  ds!: DataSource;
  repos!: Repositories;
  blobs!: FilesystemBlobStore;
  private db: MigratedTestDatabase | undefined;
  private keys: TestRedis | undefined;
  private readonly queues: JobQueue[] = [];
  private readonly procs: JamProcess[] = [];
  private jobNo = 0;

  constructor(readonly tag: string) {}

  /** URL of this harness's database (set by setUp). */
  get dbUrl(): string {
    if (!this.db) throw new Error('WorkerHarness.setUp has not run');
    return this.db.url;
  }

  async setUp(): Promise<void> {
    await initHashing();
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `jam-${this.tag}-`));
    this.db = await createMigratedDatabase(this.tag, { poolSize: 4 });
    this.keys = createTestRedis(this.tag);
    this.redis = this.keys.client;
    this.ds = this.db.dataSource;
    this.repos = this.db.repos;
    this.blobs = new FilesystemBlobStore(path.join(this.tmp, 'blobs'));
  }

  async tearDown(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    await Promise.all(this.queues.map((q) => q.close()));
    await this.keys?.cleanup();
    await this.db?.drop();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** A BullMQ queue client on `prefix` (its keys are deleted in afterAll). */
  queue(prefix: string): JobQueue {
    this.keys?.track(prefix);
    const q = createBullMqQueue({ redisUrl: REDIS_URL, prefix });
    this.queues.push(q);
    return q;
  }

  /** A worker process (`roles`) on this database, blob dir and queue `prefix`, one executor; stopped in afterAll. */
  async startWorker(roles: string, prefix: string, extra: Record<string, string> = {}): Promise<{ proc: JamProcess; metricsPort: number }> {
    this.keys?.track(prefix);
    const metricsPort = await freePort();
    const proc = await JamProcess.start(
      {
        DATABASE_URL: this.dbUrl,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_ROLES: roles,
        JAM_DATA_DIR: path.join(this.tmp, 'data'),
        JAM_BLOB_DIR: path.join(this.tmp, 'blobs'),
        JAM_SANDBOX_POOL_SIZE: '1',
        JAM_METRICS_PORT: String(metricsPort),
        ...extra,
      },
      { port: metricsPort, timeoutMs: 60_000 },
    );
    this.procs.push(proc);
    started.push(proc);
    return { proc, metricsPort };
  }

  /** Stores `code` as a preimage and registers a service running it. */
  async registerService(code: Uint8Array): Promise<HarnessService> {
    const hash = toHex(blake2b256(code));
    await this.blobs.put(hash, once(code), { maxBytes: 1 << 22 });
    await this.repos.preimages.insertIfAbsent({ hash, length: code.length, storageTier: 'fs', uploadedBy: 'test' });
    const service = await this.repos.services.create({ codeHash: hash, owner: 'test', delegates: [], minItemGas: 0n, minMemoGas: 0n });
    return { id: service.id, codeHash: blake2b256(code) };
  }

  /** A distinct one-item word-count package for `service` with refine gas `refineGas`. */
  newPackage(service: HarnessService, refineGas?: bigint): WorkPackage {
    const wp = wordCountPackage(service.id, service.codeHash, `job ${this.suffix} ${this.jobNo++}`);
    if (refineGas !== undefined) wp.items[0] = { ...wp.items[0]!, refine_gas_limit: refineGas };
    return wp;
  }

  /**
   * Stores a package and its attested report with one ok digest for `service` whose output is
   * `operand` (default 8 zero bytes), and enqueues its accumulate job on `queue`, as the
   * attestation service would.
   */
  async submitAttested(
    queue: JobQueue,
    service: HarnessService,
    opts: { operand?: Uint8Array; accumulateGas?: bigint; refineGas?: bigint } = {},
  ): Promise<{ pkg: string; rep: string }> {
    const wp = this.newPackage(service, opts.refineGas);
    const pkg = toHex(packageHash(wp));
    const encoded = encodeWorkPackage(wp);
    await this.repos.workPackages.insertIfAbsent({ hash: pkg, encoded, serviceIds: [service.id], submittedBy: 'test' });
    const zero = new Uint8Array(32);
    const report: WorkReport = {
      package_spec: { hash: packageHash(wp), length: encoded.length, erasure_root: zero, exports_root: zero, exports_count: 0 },
      context: wp.context,
      core_index: 0,
      authorizer_hash: zero,
      auth_gas_used: 0n,
      auth_output: new Uint8Array(0),
      segment_root_lookup: [],
      results: [
        {
          service_id: service.id,
          code_hash: service.codeHash,
          payload_hash: blake2b256(wp.items[0]!.payload),
          accumulate_gas: opts.accumulateGas ?? 10_000_000_000n,
          result: { ok: opts.operand ?? new Uint8Array(8) },
          refine_load: { gas_used: 1n, imports: 0, extrinsic_count: 0, extrinsic_size: 0, exports: 0 },
        },
      ],
    };
    const rep = toHex(reportHash(report));
    await this.repos.workReports.insertIfAbsent({
      reportHash: rep,
      packageHash: pkg,
      encoded: encodeWorkReport(report),
      engine: JSON.stringify(ENGINE_IDENTITY),
    });
    expect(await this.repos.workPackages.transition(pkg, ['pending'], 'attested', { reportHash: rep })).toBe(true);
    await queue.enqueue(ACCUMULATE_QUEUE, ACCUMULATE_REPORT_V1, { report_hash: rep, package_hash: pkg }, { jobId: accumulateJobId(rep) });
    return { pkg, rep };
  }

  /** Waits until package `pkg` is `accumulated` or `failed` (bounded by the workers' progress, see `until`); resolves with its row. */
  finished(pkg: string, stallMs?: number): Promise<WorkPackageRecord> {
    return until(
      `package ${pkg} to finish`,
      async () => {
        const row = await this.repos.workPackages.get(pkg);
        return row && ['accumulated', 'failed'].includes(row.status) ? row : undefined;
      },
      stallMs,
    );
  }

  /** Rows of the `accumulation` table for report `rep`. */
  accumulationRows(rep: string): Promise<{ status: string; gas_used: string }[]> {
    return this.ds.query('SELECT status, gas_used FROM accumulation WHERE report_hash = $1', [Buffer.from(rep.slice(2), 'hex')]);
  }
}

/** A `WorkerHarness` set up in beforeAll and torn down in afterAll of the calling describe block. */
export function useWorkerHarness(tag: string): WorkerHarness {
  const h = new WorkerHarness(tag);
  beforeAll(() => h.setUp(), PROCESS_TEST_TIMEOUT_MS);
  afterAll(() => h.tearDown(), PROCESS_TEST_TIMEOUT_MS);
  return h;
}
