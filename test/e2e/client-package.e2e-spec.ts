/**
 * The client as a package (README "Using the client from another project"): `npm pack` of
 * `@jam/client` (scripts/build-client-package.js) gives a tarball that a fresh project installs
 * without a registry (`npm install --offline` with an empty cache), type-checks against with
 * this repository's tsc (`--noEmit`, strict, `nodenext`), and runs against a real gateway
 * (PostgreSQL + Redis, every role in one process): upload, register, submit, follow the package
 * over its status stream (server-sent events, no polling fallback) to `accumulated`.
 * Needs `npm run build` (the server runs from dist/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import { JamProcess, MAX_WAIT_MS, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, cpuTicks, freePort, untilProgress } from '../support/jam-server';
import { deleteKeys } from '../support/redis';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const TSC = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');

/** Runs a command to completion (these are bounded builds and installs, not servers); throws with its output on failure. */
function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A consumer's tsconfig: strict, Node's module resolution, @types/node from this repository (a Node project has its own). */
function consumerTsconfig(extra: Record<string, unknown>): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
      types: ['node'],
      ...extra,
    },
    files: ['main.ts'],
  });
}

describe('@jam/client as a package: npm pack, offline install, type-check and run against a real gateway', () => {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `jam_clientpkg_${suffix}`;
  const prefix = `jamclientpkg${suffix}`;
  const token = `consumer-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let project: string;
  let tarball: string;
  let server: JamProcess | undefined;
  let base: string;
  let pg: Client;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-clientpkg-'));
    const out = sh(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-client-package.js'), '--pack', path.join(tmp, 'pack')], REPO_ROOT);
    tarball = out.trim().split('\n').at(-1)!;
    project = path.join(tmp, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'jam-client-consumer', version: '1.0.0', private: true }));
    // --offline with an empty cache: nothing may come from a registry; the tarball must carry its dependencies.
    sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', path.join(tmp, 'npm-cache'), tarball], project);
    fs.copyFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'client-consumer', 'main.ts'), path.join(project, 'main.ts'));
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    if (pg) {
      await pg.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await pg.end();
    }
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs a tarball with a manifest, CommonJS + .d.ts, the domain code it imports and its bundled dependencies', () => {
    const files = sh('tar', ['tzf', tarball], tmp).trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/dist/client/src/index.js',
        'package/dist/client/src/index.d.ts',
        'package/dist/domain/src/index.js',
        'package/dist/domain/src/index.d.ts',
        'package/dist/http-contract/src/index.js',
        'package/dist/http-contract/src/index.d.ts',
        'package/node_modules/hash-wasm/package.json',
        'package/node_modules/lossless-json/package.json',
        'package/node_modules/zod/package.json',
      ]),
    );
    // the repository's test helpers are not shipped
    expect(files.filter((f) => f.startsWith('package/dist/') && (f.includes('/testing/') || f.endsWith('.spec.js') || f.endsWith('.map')))).toEqual([]);
    const installed = path.join(project, 'node_modules', '@jam', 'client');
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect([manifest.name, manifest.license, manifest.main, manifest.types, manifest.exports['.'].types]).toEqual([
      '@jam/client',
      'MIT',
      './dist/client/src/index.js',
      './dist/client/src/index.d.ts',
      './dist/client/src/index.d.ts',
    ]);
    // nothing refers to the monorepo's @jam/* libraries any more
    const grep = spawnSync('grep', ['-rlE', `(require\\(|from )['"]@jam/`, path.join(installed, 'dist')], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
    // the installed package loads from CommonJS and from ESM (Node's CommonJS interop)
    expect(sh(process.execPath, ['-e', `const c = require('@jam/client'); console.log(typeof c.JamClient, typeof c.packageHash)`], project).trim()).toBe(
      'function function',
    );
    expect(
      sh(
        process.execPath,
        ['--input-type=module', '-e', `import { JamClient, JamAdminClient } from '@jam/client'; console.log(typeof JamClient, typeof JamAdminClient)`],
        project,
      ).trim(),
    ).toBe('function function');
  });

  it('type-checks a strict consumer with tsc --noEmit, and rejects one that misuses the API', () => {
    fs.writeFileSync(path.join(project, 'tsconfig.json'), consumerTsconfig({ noEmit: true }));
    sh(TSC, ['-p', 'tsconfig.json'], project);
    // The types are real, not `any`: a wrong argument and a wrong field are compile errors.
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    fs.symlinkSync(path.join(project, 'node_modules'), path.join(bad, 'node_modules'));
    fs.writeFileSync(path.join(bad, 'tsconfig.json'), consumerTsconfig({ noEmit: true }));
    fs.writeFileSync(
      path.join(bad, 'main.ts'),
      [
        `import { JamClient } from '@jam/client';`,
        `const client = new JamClient({ baseUrl: 'http://127.0.0.1:1' });`,
        `export async function f(): Promise<string> {`,
        `  const p = await client.getPackage(42);`,
        `  return p.statuz;`,
        `}`,
      ].join('\n'),
    );
    const r = spawnSync(TSC, ['-p', 'tsconfig.json'], { cwd: bad, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/main\.ts\(4,\d+\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
    expect(r.stdout).toMatch(/main\.ts\(5,\d+\): error TS2551: Property 'statuz' does not exist on type 'PackageInfo'/);
  });

  it('runs the consumer against a real gateway: submits, follows over server-sent events to accumulated', async () => {
    fs.writeFileSync(path.join(project, 'tsconfig.json'), consumerTsconfig({ outDir: 'out' }));
    sh(TSC, ['-p', 'tsconfig.json'], project);

    pg = new Client({ connectionString: PG_ADMIN_URL });
    await pg.connect();
    await pg.query(`CREATE DATABASE ${dbName}`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await JamProcess.start(
      {
        DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_ALLOWED_TOKENS: `consumer=${createHash('sha256').update(token).digest('hex')}`,
        JAM_SANDBOX_POOL_SIZE: '1',
      },
      { port, timeoutMs: 90_000 },
    );
    const wasm = path.join(REPO_ROOT, 'services', 'word-count', 'build', 'word-count.wasm');
    // The consumer's own waits are bounded by its timeout; this one by the progress of both processes.
    const child = spawn(process.execPath, [path.join(project, 'out', 'main.js'), base, token, wasm, `one two three ${suffix}`, String(MAX_WAIT_MS)], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let code: number | null | undefined;
    child.once('exit', (c) => (code = c));
    const srv = server;
    await untilProgress('the consumer to finish', async () => (code !== undefined ? true : undefined), {
      progress: () => [stdout.length, stderr.length, cpuTicks(child.pid), srv.progress()],
      stallMs: 120_000,
      diagnose: () => `${stdout}\n${stderr}\n--- server ---\n${srv.tail()}`,
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    if (code !== 0) throw new Error(`consumer failed (${code}):\n${stdout}\n${stderr}\n--- server ---\n${srv.tail()}`);
    const got = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(got.submitted.hash).toBe(got.local_hash);
    expect([got.final, got.read, got.fallback, got.missing]).toEqual(['accumulated', 'accumulated', null, '404 not_found']);
    expect(got.statuses.at(-1)).toBe('accumulated');
    expect(new Set(got.statuses).size).toBe(got.statuses.length);
  });
});
