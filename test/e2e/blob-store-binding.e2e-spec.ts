/**
 * Blob store binding, black box: two deployments with different databases pointed at one
 * JAM_BLOB_DIR. The first binds the store to its database (marker `.jam-store-id`); a process of
 * the second refuses to start with the documented error, before its janitor could sweep the
 * first deployment's blobs as orphans.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { Client } from 'pg';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, freePort } from '../support/jam-server';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

describe('blob store binding: two databases on one JAM_BLOB_DIR', () => {
  const suffix = randomBytes(4).toString('hex');
  const testRedis = createTestRedis('e2ebind');
  const prefix = testRedis.prefix;
  // each deployment has its own queue prefix
  for (const name of ['a', 'b']) testRedis.track(`${prefix}${name}`);
  const databases: TestDatabase[] = [];
  let dbA: string;
  let dbB: string;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  const procs: JamProcess[] = [];

  const envFor = (db: string, roles: string, name: string, port: number): Record<string, string> => ({
    DATABASE_URL: testDatabaseUrl(db),
    REDIS_URL,
    JAM_QUEUE_PREFIX: `${prefix}${name}`,
    JAM_ROLES: roles,
    JAM_PORT: String(port),
    JAM_DATA_DIR: path.join(tmp, `data-${name}`),
    JAM_BLOB_DIR: path.join(tmp, 'shared-blobs'),
    JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(token).digest('hex')}`,
    JAM_SANDBOX_POOL_SIZE: '1',
  });
  const storeIdOf = async (db: string): Promise<string> => {
    const c = new Client({ connectionString: testDatabaseUrl(db) });
    await c.connect();
    try {
      return (await c.query('SELECT store_id::text AS id FROM store_identity')).rows[0].id as string;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-bind-'));
    for (const tag of ['e2e_bind_a', 'e2e_bind_b']) databases.push(await createTestDatabase(tag));
    [dbA, dbB] = databases.map((d) => d.name) as [string, string];
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await testRedis.cleanup();
    for (const db of databases) await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(
    "the second deployment's janitor refuses to start, naming the store, both ids and the fix",
    async () => {
      const portA = await freePort();
      const a = await JamProcess.start(envFor(dbA, 'gateway', 'a', portA), { port: portA, timeoutMs: 90_000 });
      procs.push(a);
      const blobDir = path.join(tmp, 'shared-blobs');
      const marker = path.join(blobDir, '.jam-store-id');
      const idA = await storeIdOf(dbA);
      expect(JSON.parse(fs.readFileSync(marker, 'utf8'))).toMatchObject({ store_id: idA });

      const b = await JamProcess.start(envFor(dbB, 'janitor', 'b', await freePort()));
      procs.push(b);
      const code = await b.waitExit(90_000);
      const out = b.output.join('');
      if (process.env['JAM_TEST_VERBOSE']) console.log(out);
      expect(code).toBe(1);
      const idB = await storeIdOf(dbB); // the refused process ran the migrations first
      expect(idB).not.toBe(idA);
      expect(out).toContain(
        `jam: blob store ${blobDir} belongs to another database: its marker ${marker} names store id ${idA}, but this database's store id is ${idB}.`,
      );
      expect(out).toContain("Fix: point JAM_BLOB_DIR at this deployment's own blob store");
      expect(out).toContain('remove the marker');
      expect(out).not.toMatch(/\n\s+at /); // an operator message, not a stack trace
      // The first deployment is untouched and still serving.
      expect(JSON.parse(fs.readFileSync(marker, 'utf8'))).toMatchObject({ store_id: idA });
      expect((await fetch(`http://127.0.0.1:${portA}/healthz`)).status).toBe(200);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a gateway with no tokens configured refuses before it touches its blob store (no marker written)',
    async () => {
      const blobDir = path.join(tmp, 'blobs-notokens');
      const env: Record<string, string> = { ...envFor(dbB, 'gateway', 'b', await freePort()), JAM_BLOB_DIR: blobDir };
      delete env['JAM_ALLOWED_TOKENS'];
      const p = await JamProcess.start(env);
      procs.push(p);
      expect(await p.waitExit(90_000)).toBe(1);
      const out = p.output.join('');
      expect(out).toContain('jam: auth_required is true but no allowed_tokens are configured: set JAM_ALLOWED_TOKENS');
      expect(out).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(blobDir, '.jam-store-id'))).toBe(false);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a process whose database does not exist says so and how to fix it, without a stack trace',
    async () => {
      const missing = `jam_e2e_missing_${suffix}`;
      const p = await JamProcess.start({ ...envFor(missing, 'janitor', 'b', await freePort()), JAM_BLOB_DIR: path.join(tmp, 'blobs-missing') });
      procs.push(p);
      expect(await p.waitExit(90_000)).toBe(1);
      const out = p.output.join('');
      expect(out).toContain(`jam: database "${missing}" does not exist at DATABASE_URL (postgres://<redacted>@127.0.0.1:5432/${missing}): create it first`);
      expect(out).not.toMatch(/\n\s+at /);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a process whose REDIS_URL answers nothing refuses to start with the cause, instead of logging reconnects forever',
    async () => {
      const deadPort = await freePort();
      const env = { ...envFor(dbB, 'janitor', 'b', await freePort()), REDIS_URL: `redis://127.0.0.1:${deadPort}`, JAM_BLOB_DIR: path.join(tmp, 'blobs-b') };
      const p = await JamProcess.start(env);
      procs.push(p);
      expect(await p.waitExit(90_000)).toBe(1);
      const out = p.output.join('');
      expect(out).toContain(
        `jam: cannot reach Redis at REDIS_URL (redis://127.0.0.1:${deadPort}): connect ECONNREFUSED 127.0.0.1:${deadPort}. Check REDIS_URL and that Redis is running.`,
      );
      expect(out).not.toMatch(/\n\s+at /);
      expect(out).not.toContain('"msg":"started"');
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
