/**
 * Black-box end-to-end test of production mode: PostgreSQL + Redis, one real process per role
 * (gateway, a refine worker per attester, attestation, accumulate, janitor), driven through the
 * real CLI and client. Also proves the core promise of docs/architecture.md section 6: a package acknowledged
 * with 202 survives the loss of every queued job (Redis keys deleted) and still accumulates.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Client } from 'pg';
import type Redis from 'ioredis';
import { JamClient } from '@jam/client';
import { initHashing, blake2b256, toHex, packageHash } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, freePort, runCli, untilProgress } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis, deleteKeys } from '../support/redis';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

describe('production mode: PostgreSQL + Redis, one process per role', () => {
  const suffix = randomBytes(4).toString('hex');
  const testRedis = createTestRedis('e2e');
  const prefix = testRedis.prefix;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let port: number;
  let base: string;
  let database: TestDatabase | undefined;
  let redis: Redis;
  const procs = new Map<string, JamProcess>();
  let janitorMetricsPort = 0;

  const envFor = (roles: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: database!.url,
    REDIS_URL,
    JAM_QUEUE_PREFIX: prefix,
    JAM_ROLES: roles,
    JAM_PORT: String(port),
    JAM_DATA_DIR: path.join(tmp, 'data'),
    JAM_BLOB_DIR: path.join(tmp, 'blobs'),
    JAM_KEYS_DIR: path.join(tmp, 'keys'),
    JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(token).digest('hex')}`,
    JAM_RECONCILE_INTERVAL_MS: '1000',
    JAM_RECONCILE_STALE_MS: '1500',
    JAM_SANDBOX_POOL_SIZE: '1',
    ...extra,
  });
  // Each refine process gets a keys dir holding only its own attester's private key, made here
  // (as a Kubernetes Secret mount would hold it): it must start, sign and never need the others.
  const ownKeysDir = (i: number) => path.join(tmp, `keys-${i}`);
  const startRefine = (i: number) => start(`refine-${i}`, 'refine-worker', { JAM_ATTESTER_INDEXES: String(i), JAM_KEYS_DIR: ownKeysDir(i) });
  const start = async (name: string, roles: string, extra: Record<string, string> = {}) => {
    const p = await JamProcess.start(envFor(roles, extra), roles === 'gateway' ? { port, timeoutMs: 60_000 } : {});
    procs.set(name, p);
    return p;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-prod-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    database = await createTestDatabase('e2e');
    redis = testRedis.client;
    await initHashing();
    // The gateway runs the migrations first; the other roles then find the schema in place.
    await start('gateway', 'gateway');
    for (let i = 0; i < 3; i++) {
      fs.mkdirSync(ownKeysDir(i), { mode: 0o700 });
      const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
      fs.writeFileSync(path.join(ownKeysDir(i), `attester-${i}.pem`), pem, { mode: 0o600 });
    }
    for (let i = 0; i < 3; i++) await startRefine(i);
    await start('attestation', 'attestation');
    await start('accumulate', 'accumulate-worker');
    janitorMetricsPort = await freePort();
    await start('janitor', 'janitor', { JAM_METRICS_PORT: String(janitorMetricsPort) });
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop()));
    await testRedis.cleanup();
    await database?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'runs the demo through separate role processes',
    async () => {
      const demo = await runCli(['demo', '--url', base, '--token', token], {}, PROCESS_TEST_TIMEOUT_MS);
      const logs = () => [...procs.entries()].map(([n, p]) => `--- ${n} ---\n${p.output.join('').slice(-3000)}`).join('\n');
      if (demo.code !== 0) throw new Error(`demo failed (${demo.code}):\n${demo.stdout}\n${demo.stderr}\n${logs()}`);
      expect(demo.stdout).toMatch(/demo: OK: \d+ packages accumulated/);
      // Each refine process registered its own attester key, and more than one attester signed each report.
      const db = new Client({ connectionString: database!.url });
      await db.connect();
      try {
        expect((await db.query('SELECT count(DISTINCT public_key)::int AS n FROM attester')).rows[0].n).toBe(3);
        // ...the key given to it (each dir still holds only that one file), and no other role made or read keys
        const registered = (await db.query(`SELECT "index", encode(public_key, 'hex') AS public_key FROM attester ORDER BY "index"`)).rows as {
          index: number;
          public_key: string;
        }[];
        for (let i = 0; i < 3; i++) {
          expect(fs.readdirSync(ownKeysDir(i))).toEqual([`attester-${i}.pem`]);
          const pub = createPublicKey(createPrivateKey(fs.readFileSync(path.join(ownKeysDir(i), `attester-${i}.pem`))))
            .export({ format: 'der', type: 'spki' })
            .subarray(12);
          expect(registered.find((r) => r.index === i)?.public_key).toBe(pub.toString('hex'));
        }
        expect(fs.existsSync(path.join(tmp, 'keys'))).toBe(false);
        const perReport = await db.query('SELECT count(*)::int AS n FROM attestation GROUP BY report_hash');
        expect(perReport.rows.length).toBeGreaterThan(0);
        expect(perReport.rows.every((r: { n: number }) => r.n >= 2)).toBe(true);
      } finally {
        await db.end();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it('serves /healthz and /metrics from a worker-only process on JAM_METRICS_PORT', async () => {
    const health = await fetch(`http://127.0.0.1:${janitorMetricsPort}/healthz`);
    expect(health.status).toBe(200);
    // the first queue-depth sample comes with the janitor's first run: wait while the janitor works
    const text = await untilProgress(
      'a queue depth sample',
      async () => {
        const t = await (await fetch(`http://127.0.0.1:${janitorMetricsPort}/metrics`)).text();
        return /jam_queue_depth\{/.test(t) ? t : undefined;
      },
      { progress: () => procs.get('janitor')!.progress(), stallMs: 30_000 },
    );
    expect(text).toMatch(/jam_janitor_runs_total\{task="reconcile",outcome="ok"\} \d+/);
    expect(text).toMatch(/jam_queue_depth\{queue="refine-a0",state="waiting"\} \d+/);
    expect((await fetch(`http://127.0.0.1:${janitorMetricsPort}/jam/services`)).status).toBe(404);
  });

  it(
    'accumulates a package whose queued jobs were all lost (reconciler)',
    async () => {
      const client = new JamClient({ baseUrl: base, token });
      const code = fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm'));
      const put = await client.putPreimage(new Uint8Array(code));
      const service = await client.createService({ code_hash: put.hash });
      // Refine workers down: the package is acknowledged but cannot progress.
      for (let i = 0; i < 3; i++) await procs.get(`refine-${i}`)!.stop();
      await procs.get('janitor')!.stop();
      const text = `lost jobs are found again ${suffix}`;
      const pkg = wordCountPackage(service.id, blake2b256(new Uint8Array(code)), text);
      const submitted = await client.submitPackage(pkg);
      expect(submitted.hash).toBe(toHex(packageHash(pkg)));
      expect((await client.getPackage(submitted.hash)).status).toBe('pending');
      // Simulate Redis losing everything this deployment queued.
      expect(await deleteKeys(redis, prefix)).toBeGreaterThan(0);
      for (let i = 0; i < 3; i++) await startRefine(i);
      await start('janitor', 'janitor');
      // bounded by progress: the package's status and the work of every process
      let status = '';
      const done = await untilProgress(
        `package ${submitted.hash} to finish`,
        async () => {
          const row = await client.getPackage(submitted.hash);
          status = row.status;
          return ['accumulated', 'failed', 'disputed'].includes(row.status) ? row : undefined;
        },
        { progress: () => [status, [...procs.values()].map((p) => p.progress())], stallMs: 90_000, intervalMs: 250, diagnose: () => `status ${status}` },
      );
      expect(done.status).toBe('accumulated');
      const words = await client.getStorage(service.id, '0x776f726473');
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64LE(BigInt(text.split(/\s+/).filter(Boolean).length));
      expect(words.value).toBe(`0x${expected.toString('hex')}`);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
