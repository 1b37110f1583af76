/**
 * Black-box crash test of the promise of docs/architecture.md section 6: a package acknowledged with 202 is
 * never lost when processes die, and its report is applied to the service's storage exactly once.
 * Processes are SIGKILLed (no clean shutdown) while they hold work:
 * - production mode (PostgreSQL + Redis, one process per role): the accumulate worker several
 *   times, a refine worker and the attestation process, each killed while BullMQ shows it holding
 *   an active job, then restarted;
 * - embedded mode (one process, PGlite + in-process queue): the whole server, twice, restarted at
 *   once on the same data directory.
 * The two scenarios are independent (own database, Redis prefix and directories) and run
 * concurrently: most of the production one is BullMQ's stalled-job recovery (a killed worker's
 * active job runs again only once its 30 s lock has expired and a stalled check, every 30 s, has
 * seen it: 30-90 s), time the embedded one uses.
 * The word-count service keeps a running sum ("words") and a count of applied operands ("items"):
 * a lost package makes both too small, a report applied twice makes both too large.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { Client } from 'pg';
import type Redis from 'ioredis';
import { JamClient } from '@jam/client';
import { initHashing, blake2b256, stringifyJamJson, toHex, packageHash, workPackageToJson, type WorkPackage } from '@jam/domain';
import { startEmbeddedPostgres } from '@jam/persistence';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort, untilProgress } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const CODE_PATH = path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm');
const WORDS_KEY = '0x776f726473'; // "words"
const ITEMS_KEY = '0x6974656d73'; // "items"
const TERMINAL = new Set(['accumulated', 'failed', 'disputed']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Words as the word-count service counts them: maximal runs of bytes that are not ASCII whitespace. */
function countWords(text: string): number {
  return text.split(/[ \t\n\v\f\r]+/).filter((w) => w.length > 0).length;
}

/** `0x` hex of a u64 little-endian, as the service stores its counters. */
function u64le(n: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return `0x${b.toString('hex')}`;
}

/** `n` distinct texts; text i has i + 3 words, so every package adds a different amount. */
function makeTexts(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => [`${tag}-${i}`, ...Array.from({ length: i + 2 }, (_, j) => `w${i}x${j}`)].join(i % 2 ? '\t' : ' '));
}

/** POST /jam/packages as GP JSON; resolves with the HTTP status and body, or rejects when no answer came. */
async function submit(base: string, token: string, pkg: WorkPackage) {
  return api(base, token, 'POST', '/jam/packages', stringifyJamJson(workPackageToJson(pkg)), { 'Content-Type': 'application/json' });
}

/** Status of every package of the service (one page: the tests submit far fewer than the limit). */
async function statusesOf(base: string, token: string, serviceId: number): Promise<Map<string, string>> {
  const r = await api(base, token, 'GET', `/jam/services/${serviceId}/packages?limit=500`);
  if (r.status !== 200) throw new Error(`listing packages answered ${r.status}: ${r.text}`);
  return new Map((r.json.items as { hash: string; status: string }[]).map((p) => [p.hash, p.status]));
}

/**
 * Polls until every package in `hashes` is terminal. Bounded by progress: throws with the statuses
 * left once neither a status nor the processes' logs (`diagnose`) changed for `stallMs`.
 */
async function waitFinished(
  base: string,
  token: string,
  serviceId: number,
  hashes: string[],
  stallMs: number,
  diagnose: () => string,
): Promise<Map<string, string>> {
  let last = new Map<string, string>();
  const finished = await untilProgress(
    'packages to finish',
    async () => {
      try {
        last = await statusesOf(base, token, serviceId);
        if (hashes.every((h) => TERMINAL.has(last.get(h) ?? ''))) return last;
      } catch {
        /* the server may be restarting; keep polling */
      }
      return undefined;
    },
    { progress: () => [[...last.entries()], diagnose()], stallMs, intervalMs: 500 },
  ).catch(() => undefined);
  if (finished !== undefined) return finished;
  const left: string[] = [];
  for (const h of hashes.filter((x) => !TERMINAL.has(last.get(x) ?? ''))) {
    const report = await api(base, token, 'GET', `/jam/reports/${h}`).catch((err: Error) => ({ status: 0, json: undefined, text: err.message }));
    const signers = report.json?.attestations?.map((a: { attester_index: number }) => a.attester_index);
    left.push(
      `${h}: ${last.get(h) ?? 'missing'}; report ${report.status}: signers ${JSON.stringify(signers)}, verdict ${JSON.stringify(report.json?.verdict)}`,
    );
  }
  throw new Error(`packages not finished, no progress for ${stallMs} ms:\n${left.join('\n')}\n${diagnose()}`);
}

/** Accumulation rows of the service: `[package hash, status, applied report is the package's report]`, sorted. */
async function accumulationRows(db: Client, serviceId: number): Promise<[string, string, boolean][]> {
  const rows = await db.query<{ package_hash: Buffer; status: string; same_report: boolean }>(
    `SELECT a.package_hash, a.status, a.report_hash = p.report_hash AS same_report
     FROM accumulation a JOIN work_package p ON p.hash = a.package_hash WHERE a.service_id = $1`,
    [serviceId],
  );
  return rows.rows.map((r): [string, string, boolean] => [`0x${r.package_hash.toString('hex')}`, r.status, r.same_report]).sort();
}

/** Production mode: one real process per role on PostgreSQL + Redis, each role restartable after a kill. */
class ProductionCluster {
  readonly suffix = randomBytes(4).toString('hex');
  private readonly testRedis = createTestRedis('crash');
  readonly prefix = this.testRedis.prefix;
  readonly token = `e2e-${randomBytes(16).toString('hex')}`;
  tmp = '';
  port = 0;
  base = '';
  database: TestDatabase | undefined;
  redis: Redis | undefined;
  readonly procs = new Map<string, JamProcess>();
  /** Every process started, killed ones included, for the logs of a failure. */
  readonly history: [string, JamProcess][] = [];
  /** URL of the cluster's database (set by setup). */
  get dbUrl(): string {
    if (!this.database) throw new Error('ProductionCluster.setup has not run');
    return this.database.url;
  }
  /** BullMQ worker ids of killed processes: their job locks outlive them for BullMQ's lockDuration. */
  private readonly deadWorkers = new Set<string>();
  private readonly roles: Record<string, [string, Record<string, string>]> = {
    gateway: ['gateway', {}],
    'refine-0': ['refine-worker', { JAM_ATTESTER_INDEXES: '0' }],
    'refine-1': ['refine-worker', { JAM_ATTESTER_INDEXES: '1' }],
    'refine-2': ['refine-worker', { JAM_ATTESTER_INDEXES: '2' }],
    attestation: ['attestation', {}],
    accumulate: ['accumulate-worker', {}],
    janitor: ['janitor', {}],
  };

  async setup(): Promise<void> {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-crash-'));
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.database = await createTestDatabase('e2e_crash');
    this.redis = this.testRedis.client;
    // The gateway runs the migrations first; the other roles then find the schema in place.
    for (const name of Object.keys(this.roles)) await this.start(name);
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop()));
    await this.testRedis.cleanup();
    await this.database?.drop();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  async start(name: string): Promise<JamProcess> {
    const [roles, extra] = this.roles[name]!;
    const env = {
      DATABASE_URL: this.dbUrl,
      REDIS_URL,
      JAM_QUEUE_PREFIX: this.prefix,
      JAM_ROLES: roles,
      JAM_PORT: String(this.port),
      JAM_DATA_DIR: path.join(this.tmp, 'data'),
      JAM_BLOB_DIR: path.join(this.tmp, 'blobs'),
      JAM_KEYS_DIR: path.join(this.tmp, 'keys'),
      JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(this.token).digest('hex')}`,
      JAM_RECONCILE_INTERVAL_MS: '1000',
      JAM_RECONCILE_STALE_MS: '1500',
      JAM_SANDBOX_POOL_SIZE: '1',
      JAM_RATE_LIMIT_PER_MINUTE: '100000',
      ...extra,
    };
    const p = await JamProcess.start(env, roles === 'gateway' ? { port: this.port, timeoutMs: 60_000 } : {});
    this.procs.set(name, p);
    this.history.push([name, p]);
    return p;
  }

  logs(): string {
    return this.history.map(([n, p], i) => `--- ${n} #${i} (pid ${p.child.pid}) ---\n${p.output.join('').slice(-2500)}`).join('\n');
  }

  /** Lock tokens (`<BullMQ worker id>:<n>`) of the jobs BullMQ holds active in `queue`. */
  private async activeLocks(queue: string): Promise<string[]> {
    const ids = await this.redis!.lrange(`${this.prefix}:${queue}:active`, 0, -1);
    const locks = ids.length === 0 ? [] : await this.redis!.mget(...ids.map((id) => `${this.prefix}:${queue}:${id}:lock`));
    return locks.filter((l): l is string => l !== null);
  }

  /**
   * Waits until the live process `name` holds an active job of `queue` (a lock of a worker not
   * killed before), SIGKILLs it and starts a replacement.
   * While it holds none, `feed` is called about once a second (it submits one more package), so a
   * loaded machine whose jobs finish between two looks still sees new work arrive.
   * @returns whether it held a job when killed (false: none within `timeoutMs`; killed anyway).
   */
  async crashWhileActive(name: string, queue: string, timeoutMs: number, feed: () => Promise<void>): Promise<boolean> {
    const workerOf = (lock: string) => lock.slice(0, lock.lastIndexOf(':'));
    const deadline = Date.now() + timeoutMs;
    let live: string[] = [];
    let fedAt = Date.now();
    while (Date.now() < deadline) {
      live = (await this.activeLocks(queue)).filter((l) => !this.deadWorkers.has(workerOf(l)));
      if (live.length > 0) break;
      if (Date.now() - fedAt > 1_000) {
        await feed();
        fedAt = Date.now();
      }
      await sleep(10);
    }
    await this.procs.get(name)!.kill();
    for (const l of live) this.deadWorkers.add(workerOf(l));
    await this.start(name);
    return live.length > 0;
  }
}

/** Embedded mode: the whole product in one real process on PGlite and the in-process queue. */
class EmbeddedServer {
  dataDir = '';
  port = 0;
  base = '';
  server: JamProcess | undefined;
  readonly history: JamProcess[] = [];

  async setup(): Promise<void> {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-crash-embedded-'));
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    await this.start();
  }

  async teardown(): Promise<void> {
    await this.server?.stop();
    if (this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Starts the server on the data directory and waits for /healthz (a fresh directory runs initdb). */
  async start(): Promise<void> {
    const env = {
      JAM_DATA_DIR: this.dataDir,
      JAM_PORT: String(this.port),
      JAM_RECONCILE_INTERVAL_MS: '1000',
      JAM_RECONCILE_STALE_MS: '1500',
      JAM_RATE_LIMIT_PER_MINUTE: '100000',
    };
    this.server = await JamProcess.start(env, { port: this.port, timeoutMs: 120_000 });
    this.history.push(this.server);
  }

  logs(): string {
    return this.history.map((p, i) => `--- server #${i} (pid ${p.child.pid}) ---\n${p.output.join('').slice(-4000)}`).join('\n');
  }
}

describe('crash recovery: SIGKILL mid-work, restart, nothing acknowledged lost, accumulate exactly once', () => {
  const prod = new ProductionCluster();
  const embedded = new EmbeddedServer();

  beforeAll(async () => {
    await initHashing();
    await Promise.all([prod.setup(), embedded.setup()]);
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.allSettled([prod.teardown(), embedded.teardown()]);
  }, PROCESS_TEST_TIMEOUT_MS);

  it.concurrent(
    'production mode: accumulate (3x), attestation and a refine worker SIGKILLed while holding jobs',
    async () => {
      const { base, token } = prod;
      const client = new JamClient({ baseUrl: base, token });
      const code = new Uint8Array(fs.readFileSync(CODE_PATH));
      const put = await client.putPreimage(code);
      const service = await client.createService({ code_hash: put.hash });
      // 18 go in three per kill and at the end; the rest only if a kill has to wait for work (crashWhileActive's feed)
      const texts = makeTexts(`prod-${prod.suffix}`, 120);
      const hashes: string[] = [];
      const submitNext = async (n: number) => {
        for (const text of texts.slice(hashes.length, hashes.length + n)) {
          const pkg = wordCountPackage(service.id, blake2b256(code), text);
          const r = await submit(base, token, pkg);
          expect(r.status).toBe(202);
          expect(r.json.hash).toBe(toHex(packageHash(pkg)));
          hashes.push(r.json.hash);
        }
      };

      // The whole pipeline takes well under a second per package here, so the packages go in three at
      // a time, each group followed by one kill: the next process in line gets fresh work to die on.
      // A kill waits until the process holds a job: a lock in Redis of a worker not killed before
      // (a killed worker's jobs come back after BullMQ's stalled-job recovery, 30-90 s, so 120 s always sees one).
      const t0 = Date.now();
      const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
      const kills: string[] = [];
      for (const [name, queue] of [
        ['refine-1', 'refine-express-a1'], // the test's word-count packages declare G_A of refine gas: short, express queue
        ['attestation', 'attestation'],
        ['accumulate', 'accumulate'],
        ['accumulate', 'accumulate'],
        ['accumulate', 'accumulate'],
      ] as const) {
        await submitNext(3);
        const held = await prod.crashWhileActive(name, queue, 120_000, () => submitNext(1));
        kills.push(`${name} at ${elapsed()} (${held ? 'holding a job' : 'idle'})`);
      }
      await submitNext(Math.max(0, 18 - hashes.length));
      console.log(`production crash test: ${kills.length} SIGKILLs: ${kills.join(', ')}`);
      expect(kills.filter((k) => k.endsWith('(idle)'))).toEqual([]);

      const statuses = await waitFinished(base, token, service.id, hashes, 180_000, () => prod.logs());
      console.log(`production crash test: all ${hashes.length} packages finished at ${elapsed()}`);
      expect(hashes.map((h) => [h, statuses.get(h)])).toEqual(hashes.map((h) => [h, 'accumulated']));
      expect(statuses.size).toBe(hashes.length);

      // Storage is the running sum of exactly these packages, each applied once.
      const words = texts.slice(0, hashes.length).reduce((n, t) => n + countWords(t), 0);
      expect((await client.getStorage(service.id, WORDS_KEY)).value).toBe(u64le(words));
      expect((await client.getStorage(service.id, ITEMS_KEY)).value).toBe(u64le(hashes.length));
      const db = new Client({ connectionString: prod.dbUrl });
      await db.connect();
      try {
        expect(await accumulationRows(db, service.id)).toEqual(hashes.map((h): [string, string, boolean] => [h, 'ok', true]).sort());
      } finally {
        await db.end();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it.concurrent(
    'embedded mode: the whole process SIGKILLed twice while packages are in flight',
    async () => {
      const { base } = embedded;
      const token = fs.readFileSync(path.join(embedded.dataDir, 'dev-token'), 'utf8').trim();
      const client = new JamClient({ baseUrl: base, token });
      const code = new Uint8Array(fs.readFileSync(CODE_PATH));
      const put = await client.putPreimage(code);
      const service = await client.createService({ code_hash: put.hash });
      const texts = makeTexts(`embedded-${randomBytes(4).toString('hex')}`, 12);
      const pkgs = texts.map((t) => wordCountPackage(service.id, blake2b256(code), t));
      const hashes = pkgs.map((p) => toHex(packageHash(p)));
      const acknowledged = new Set<string>();
      const submitOne = async (i: number) => {
        const r = await submit(base, token, pkgs[i]!);
        if (r.status !== 202) throw new Error(`package ${i} answered ${r.status}: ${r.text}`);
        acknowledged.add(hashes[i]!);
      };
      const accumulatedIn = (s: Map<string, string>) => [...s.values()].filter((v) => v === 'accumulated').length;

      // A first batch; once the pipeline is mid-flow (something accumulated), a crash while the
      // second batch is being submitted, right after one more package was acknowledged.
      for (let i = 0; i < 8; i++) await submitOne(i);
      for (let n = 0; n < 1200 && accumulatedIn(await statusesOf(base, token, service.id)) === 0; n++) await sleep(50);
      let lateDone = false;
      const late = (async () => {
        for (let i = 8; i < 12; i++) {
          try {
            await submitOne(i);
          } catch {
            break; // no answer: the server is down, so not acknowledged
          }
        }
        lateDone = true;
      })();
      while (acknowledged.size < 9 && !lateDone) await sleep(5);
      const before = await statusesOf(base, token, service.id);
      await embedded.server!.kill();
      await late;
      const kills = [`#1 with ${accumulatedIn(before)}/${before.size} accumulated, ${acknowledged.size} acknowledged`];
      expect(accumulatedIn(before)).toBeLessThan(acknowledged.size);

      // Restarted at once on the same data directory, and killed again once recovery has applied another report.
      await embedded.start();
      for (let n = 0; n < 1200 && accumulatedIn(await statusesOf(base, token, service.id)) <= accumulatedIn(before); n++) await sleep(50);
      const mid = await statusesOf(base, token, service.id);
      await embedded.server!.kill();
      kills.push(`#2 with ${accumulatedIn(mid)}/${mid.size} accumulated`);
      await embedded.start();
      console.log(`embedded crash test: ${kills.length} SIGKILLs: ${kills.join('; ')}`);

      // Every acknowledged package finishes. The client then resubmits the others (idempotent), which finish too.
      const acked = hashes.filter((h) => acknowledged.has(h));
      const afterCrash = await waitFinished(base, token, service.id, acked, 180_000, () => embedded.logs());
      expect(acked.map((h) => [h, afterCrash.get(h)])).toEqual(acked.map((h) => [h, 'accumulated']));
      for (let i = 0; i < pkgs.length; i++) if (!acknowledged.has(hashes[i]!)) await submitOne(i);
      const statuses = await waitFinished(base, token, service.id, hashes, 180_000, () => embedded.logs());
      expect(hashes.map((h) => [h, statuses.get(h)])).toEqual(hashes.map((h) => [h, 'accumulated']));
      expect(statuses.size).toBe(hashes.length);

      const words = texts.slice(0, hashes.length).reduce((n, t) => n + countWords(t), 0);
      expect((await client.getStorage(service.id, WORDS_KEY)).value).toBe(u64le(words));
      expect((await client.getStorage(service.id, ITEMS_KEY)).value).toBe(u64le(hashes.length));

      // The accumulation rows, read from the data directory after a clean stop (PGlite serves one connection).
      expect(await embedded.server!.stop()).toBe(0);
      const pg = await startEmbeddedPostgres({ dataDir: embedded.dataDir });
      const db = new Client({ connectionString: pg.url });
      try {
        await db.connect();
        expect(await accumulationRows(db, service.id)).toEqual(hashes.map((h): [string, string, boolean] => [h, 'ok', true]).sort());
      } finally {
        await db.end().catch(() => undefined);
        await pg.close();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
