/**
 * Each role has an entry point of its own (`node dist/apps/<role>/src/main.js`, docs/architecture.md
 * section 4) that starts the same process as `JAM_ROLES=<role> node dist/apps/standalone/src/main.js`.
 * Here every role of a production topology (PostgreSQL + Redis) runs through its own main.js, and the
 * real CLI demo goes through them to accumulation; the janitor's jobs are instrumented like every
 * other consumer's; an entry point refuses a JAM_ROLES naming other roles, and a boot without
 * DATABASE_URL/REDIS_URL, with exit 2 and the fix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, cpuTicks, freePort, runCli, untilProgress } from '../support/jam-server';
import { deleteKeys } from '../support/redis';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';

/** A role started through `dist/apps/<role>/src/main.js`, with its output and progress (printed bytes, CPU seconds). */
class RoleMain {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private code: number | null | undefined;

  private constructor(
    readonly role: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => void this.output.push(d.toString());
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (c) => resolve(c)));
    void this.exited.then((c) => (this.code = c));
  }

  static start(role: string, env: Record<string, string>): RoleMain {
    const main = path.join(REPO_ROOT, 'dist', 'apps', role, 'src', 'main.js');
    if (!fs.existsSync(main)) throw new Error(`${main} missing: run npm run build`);
    const child = spawn(process.execPath, [main], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', JAM_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new RoleMain(role, child);
  }

  progress(): [number, number] {
    return [this.output.join('').length, Math.floor((cpuTicks(this.child.pid) ?? 0) / 100)];
  }

  /** Resolves once GET `url` answers 200; fails if the process exits or stalls (no output, no CPU) for 60 s. */
  async waitFor(url: string): Promise<void> {
    await untilProgress(
      `${this.role}: ${url}`,
      async () => {
        if (this.code !== undefined) throw new Error(`${this.role} exited with ${this.code}:\n${this.output.join('')}`);
        return (await fetch(url).catch(() => undefined))?.ok === true ? true : undefined;
      },
      { progress: () => this.progress(), stallMs: 60_000, diagnose: () => this.output.join('') },
    );
  }

  async waitExit(): Promise<number | null> {
    await untilProgress(`${this.role} to exit`, async () => (this.code !== undefined ? true : undefined), {
      progress: () => this.progress(),
      stallMs: 60_000,
      diagnose: () => this.output.join(''),
    });
    return this.exited;
  }

  /** SIGTERM; SIGKILL once it stalls for 15 s. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.code !== undefined) return this.code;
    this.child.kill('SIGTERM');
    try {
      await untilProgress(`${this.role} to stop`, async () => (this.code !== undefined ? true : undefined), {
        progress: () => this.progress(),
        stallMs: 15_000,
      });
    } catch {
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }
}

describe('role entry points: apps/<role>/src/main.ts', () => {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `jam_e2e_mains_${suffix}`;
  const prefix = `jame2emains${suffix}`;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let port: number;
  let janitorMetricsPort: number;
  let admin: Client;
  let redis: Redis;
  const procs = new Map<string, RoleMain>();

  const envFor = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
    REDIS_URL,
    JAM_QUEUE_PREFIX: prefix,
    JAM_PORT: String(port),
    JAM_DATA_DIR: path.join(tmp, 'data'),
    JAM_BLOB_DIR: path.join(tmp, 'blobs'),
    JAM_KEYS_DIR: path.join(tmp, 'keys'),
    JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(token).digest('hex')}`,
    JAM_ATTESTERS: '1',
    JAM_ATTESTATION_THRESHOLD: '1',
    JAM_RECONCILE_INTERVAL_MS: '1000',
    JAM_RECONCILE_STALE_MS: '1500',
    JAM_SANDBOX_POOL_SIZE: '1',
    ...extra,
  });
  const logs = () => [...procs.values()].map((p) => `--- ${p.role} ---\n${p.output.join('').slice(-3000)}`).join('\n');

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-mains-'));
    port = await freePort();
    janitorMetricsPort = await freePort();
    admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    redis = new Redis(REDIS_URL);
    // The gateway runs the migrations first; the other roles then find the schema in place.
    const gateway = RoleMain.start('gateway', envFor());
    procs.set('gateway', gateway);
    await gateway.waitFor(`http://127.0.0.1:${port}/healthz`);
    // JAM_ROLES may name the entry point's own role (as the deployment manifests set it).
    procs.set('refine-worker', RoleMain.start('refine-worker', envFor({ JAM_ROLES: 'refine-worker' })));
    procs.set('attestation', RoleMain.start('attestation', envFor()));
    procs.set('accumulate-worker', RoleMain.start('accumulate-worker', envFor()));
    const janitor = RoleMain.start('janitor', envFor({ JAM_METRICS_PORT: String(janitorMetricsPort) }));
    procs.set('janitor', janitor);
    await janitor.waitFor(`http://127.0.0.1:${janitorMetricsPort}/healthz`);
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop()));
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the demo to accumulation through one process per role, each started by its own main.js', async () => {
    const demo = await runCli(['demo', '--url', `http://127.0.0.1:${port}`, '--token', token], {}, PROCESS_TEST_TIMEOUT_MS);
    if (demo.code !== 0) throw new Error(`demo failed (${demo.code}):\n${demo.stdout}\n${demo.stderr}\n${logs()}`);
    expect(demo.stdout).toMatch(/demo: OK: \d+ packages accumulated/);
    const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
    await db.connect();
    try {
      // the refine worker registered its attester and signed; the accumulate worker applied the reports
      expect((await db.query('SELECT count(*)::int AS n FROM attester')).rows[0].n).toBe(1);
      expect((await db.query('SELECT count(*)::int AS n FROM attestation')).rows[0].n).toBeGreaterThan(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM work_package WHERE status = 'accumulated'`)).rows[0].n).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
    // each process says which role it runs, and only that one
    for (const p of procs.values()) expect(p.output.join('')).toContain(`"roles":["${p.role}"]`);
  });

  it("counts the janitor's jobs in jam_jobs_total like every other consumer's (the janitor consumer is wrapped)", async () => {
    const text = await untilProgress(
      'a counted janitor job',
      async () => {
        const t = await (await fetch(`http://127.0.0.1:${janitorMetricsPort}/metrics`)).text();
        return /jam_jobs_total\{queue="janitor",name="reconcile\.v1",outcome="completed"\} [1-9]/.test(t) ? t : undefined;
      },
      { progress: () => procs.get('janitor')!.progress(), stallMs: 30_000 },
    );
    expect(text).toMatch(/jam_job_duration_seconds_count\{queue="janitor",name="reconcile\.v1"\} [1-9]/);
    expect(text).toMatch(/jam_janitor_runs_total\{task="reconcile",outcome="ok"\} \d+/);
  });

  it('an entry point refuses JAM_ROLES naming other roles, with exit 2 and the fix', async () => {
    const p = RoleMain.start('janitor', envFor({ JAM_ROLES: 'gateway', JAM_METRICS_PORT: String(await freePort()) }));
    expect(await p.waitExit()).toBe(2);
    expect(p.output.join('')).toContain('JAM_ROLES=gateway: this is the janitor entry point, which runs only janitor');
    expect(p.output.join('')).not.toMatch(/\n\s+at /);
  });

  it.each(['gateway', 'refine-worker', 'attestation', 'accumulate-worker', 'janitor'])(
    '%s main.js without DATABASE_URL/REDIS_URL exits 2 with the fix and creates no embedded data',
    async (role) => {
      const dataDir = path.join(tmp, `embedded-${role}`);
      const p = RoleMain.start(role, { JAM_PORT: String(await freePort()), JAM_DATA_DIR: dataDir });
      expect(await p.waitExit()).toBe(2);
      expect(p.output.join('')).toContain(`JAM_ROLES=${role} needs DATABASE_URL and REDIS_URL`);
      expect(fs.existsSync(dataDir)).toBe(false);
    },
  );
});
