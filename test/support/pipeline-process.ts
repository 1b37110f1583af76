import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { JamClient } from '@jam/client';
import { initHashing, type WorkPackage } from '@jam/domain';
import { JamProcess, freePort, untilProgress } from './jam-server';
import { deleteKeys } from './redis';

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';

/** Statuses after which a package changes no more (docs/architecture.md section 7). */
const FINAL = ['accumulated', 'failed', 'disputed'];

/**
 * One production-mode process running every role (`JAM_ROLES=all`) on its own PostgreSQL database
 * and Redis prefix, with the default attester set (3 attesters, threshold 2), a bearer token and a
 * client; what the PVM end-to-end specs share.
 */
export interface PipelineProcess {
  /** random hex that names this run's database, Redis prefix and payloads */
  readonly suffix: string;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly token: string;
  readonly server: JamProcess;
  readonly client: JamClient;
  /**
   * Submits `pkg` and waits, bounded by progress (status changes, the server's output and CPU),
   * until it is `accumulated`, `failed` or `disputed`.
   * @throws Error with the status and the server's last output when it stalls
   */
  finish(pkg: WorkPackage): Promise<{ status: string; hash: string }>;
  /** Stops the process, deletes its Redis keys, drops its database and its temporary directory. */
  stop(): Promise<void>;
}

/**
 * Creates a database `jam_e2e_<name>_<suffix>` and starts the whole pipeline on it
 * (`dist/apps/standalone/src/main.js`: run `npm run build` first).
 *
 * @param name lowercase letters only: part of the database name and Redis prefix
 * @throws Error when the database cannot be created or the process does not become healthy
 */
export async function startPipelineProcess(name: string): Promise<PipelineProcess> {
  await initHashing();
  const suffix = randomBytes(4).toString('hex');
  const dbName = `jam_e2e_${name}_${suffix}`;
  const prefix = `jame2e${name}${suffix}`;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `jam-e2e-${name}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  let server: JamProcess | undefined;
  const stop = async () => {
    await server?.stop();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    server = await JamProcess.start(
      {
        DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_ROLES: 'all',
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_BLOB_DIR: path.join(tmp, 'blobs'),
        JAM_KEYS_DIR: path.join(tmp, 'keys'),
        JAM_ALLOWED_TOKENS: `e2e=${createHash('sha256').update(token).digest('hex')}`,
        JAM_SANDBOX_POOL_SIZE: '1',
        // With --no-liftoff (engine 0.9.0) an executor's first run of a translated PVM program waits for
        // TurboFan to compile the translator's one large function: 1.6 s for the SDK test-service on an
        // idle machine, past the 10 s default on a loaded one (docs/sandbox.md, "PVM engine"). These
        // specs prove results, not that bound, so the wall clock is set well above it.
        JAM_SANDBOX_WALL_CLOCK_MS: '60000',
      },
      { port, timeoutMs: 90_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const running = server;
  const client = new JamClient({ baseUrl: base, token });

  async function finish(pkg: WorkPackage): Promise<{ status: string; hash: string }> {
    const submitted = await client.submitPackage(pkg);
    let status = '';
    await untilProgress(
      `package ${submitted.hash} to finish`,
      async () => {
        status = (await client.getPackage(submitted.hash)).status;
        return FINAL.includes(status) ? status : undefined;
      },
      {
        progress: () => [status, running.progress()],
        stallMs: 90_000,
        intervalMs: 250,
        diagnose: () => `status ${status}\n${running.output.join('').slice(-4000)}`,
      },
    );
    return { status, hash: submitted.hash };
  }

  return { suffix, base, token, server: running, client, finish, stop };
}
