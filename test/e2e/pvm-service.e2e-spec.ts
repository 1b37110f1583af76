/**
 * Issue 9 items 2 and 3 end to end: a PVM service (a JAM service blob, not WebAssembly) registered
 * through the real gateway and refined, attested and accumulated by the real pipeline (one
 * production-mode process, PostgreSQL + Redis, every role). The report carries the refine result
 * and the gas used, and binds the PVM engine's identity; a service using the GP refine host calls
 * (`fetch`, `lookup`, `export`) exports a segment that a later package imports; a blob that is
 * neither format is refused with 422 `invalid_code` and its reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { JamClient } from '@jam/client';
import { blake2b256, fromHex, GP_SEGMENT_SIZE, initHashing, toHex, type WorkPackage } from '@jam/domain';
import { PVM_ENGINE_IDENTITY } from '@jam/sandbox';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort, untilProgress } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { deleteKeys } from '../support/redis';
import { echoService, PREIMAGE_EXPORT_LAYOUT, preimageExportService } from '../../libs/sandbox/test/pvm-service.builder';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const TEST_SERVICE = path.join(REPO_ROOT, 'test/fixtures/jam-vectors/pvm-services/test-service.jam');

describe('PVM services through the pipeline', () => {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `jam_e2e_pvm_${suffix}`;
  const prefix = `jame2epvm${suffix}`;
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let base: string;
  let admin: Client;
  let server: JamProcess;
  let client: JamClient;

  beforeAll(async () => {
    await initHashing();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-pvm-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
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
      },
      { port, timeoutMs: 90_000 },
    );
    client = new JamClient({ baseUrl: base, token });
  });

  afterAll(async () => {
    await server?.stop();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Submits `pkg` and waits (bounded by progress) until it is finished. */
  async function finish(pkg: WorkPackage): Promise<{ status: string; hash: string }> {
    const submitted = await client.submitPackage(pkg);
    let status = '';
    const done = await untilProgress(
      `package ${submitted.hash} to finish`,
      async () => {
        const row = await client.getPackage(submitted.hash);
        status = row.status;
        return ['accumulated', 'failed', 'disputed'].includes(row.status) ? row : undefined;
      },
      {
        progress: () => [status, server.progress()],
        stallMs: 90_000,
        intervalMs: 250,
        diagnose: () => `status ${status}\n${server.output.join('').slice(-4000)}`,
      },
    );
    return { status: done.status, hash: submitted.hash };
  }

  it('registers a JAM service blob and runs its refine: result and gas in a report bound to the PVM engine', async () => {
    const code = echoService();
    const put = await client.putPreimage(code);
    const service = await client.createService({ code_hash: put.hash });
    const text = `hello from a PVM service ${suffix}`;
    const pkg = wordCountPackage(service.id, blake2b256(code), text);
    const done = await finish(pkg);
    expect(done.status).toBe('accumulated');
    const report = await client.getReport(done.hash);
    expect(report.engine).toEqual({ ...PVM_ENGINE_IDENTITY });
    const digest = (report.report as { results: { result: unknown; refine_load: { gas_used: unknown } }[] }).results[0]!;
    expect(digest.result).toEqual({ ok: toHex(new TextEncoder().encode(text)) });
    // 10 instructions, one host call (10 gas) and 1 gas per 4 bytes it copied, the same on every attester
    expect(BigInt(digest.refine_load.gas_used as string | number)).toBe(20n + BigInt(Math.ceil(text.length / 4)));
    expect(report.verdict).toBe('attested');
  });

  it('registers the real test-service blob (jam-pvm-build output) and refines it to a deterministic result', async () => {
    const code = new Uint8Array(fs.readFileSync(TEST_SERVICE));
    const put = await client.putPreimage(code);
    const service = await client.createService({ code_hash: put.hash });
    const done = await finish(wordCountPackage(service.id, blake2b256(code), 'payload'));
    expect(done.status).toBe('accumulated');
    const report = await client.getReport(done.hash);
    expect(report.engine.name).toBe(PVM_ENGINE_IDENTITY.name);
    // it decodes the refine arguments and the protocol constants (`fetch` 0) and greets its payload
    const digest = (report.report as { results: { result: unknown; refine_load: { gas_used: unknown } }[] }).results[0]!;
    expect(digest.result).toEqual({ ok: toHex(new TextEncoder().encode('Hello payload')) });
    expect(BigInt(digest.refine_load.gas_used as string | number)).toBeGreaterThan(0n);
  });

  it('runs a PVM service using fetch, lookup and export: its segment is stored and a later package imports it', async () => {
    const code = preimageExportService();
    const service = await client.createService({ code_hash: (await client.putPreimage(code)).hash });
    const extrinsic = new TextEncoder().encode(`an extrinsic the service looks up, ${suffix} `.padEnd(100, '.'));
    await client.putPreimage(extrinsic);
    const h = blake2b256(extrinsic);
    const itemOf = (pkg: WorkPackage) => ({ ...pkg.items[0]!, payload: h, extrinsic: [{ hash: h, len: extrinsic.length }], export_count: 1 });
    const L = PREIMAGE_EXPORT_LAYOUT;
    const output = async (hash: string) => {
      const report = (await client.getReport(hash)).report as { results: { result: { ok?: string } }[]; package_spec: { exports_count: number } };
      const ok = report.results[0]!.result.ok;
      if (ok === undefined) throw new Error(`refine did not end ok: ${JSON.stringify(report.results[0]!.result)}`);
      const rw = fromHex(ok, L.size);
      const v = new DataView(rw.buffer, rw.byteOffset);
      return { rw, results: [0, 1, 2, 3, 4].map((k) => v.getBigUint64(16 * k, true)), exportsCount: report.package_spec.exports_count };
    };

    const exporter = wordCountPackage(service.id, blake2b256(code), '');
    exporter.items[0] = itemOf(exporter);
    const a = await finish(exporter);
    expect(a.status).toBe('accumulated');
    const first = await output(a.hash);
    // fetch (32-byte payload), lookup (the extrinsic by its hash), export (segment 0), no import (NONE), fetch of the extrinsic
    expect(first.results).toEqual([32n, BigInt(extrinsic.length), 0n, (1n << 64n) - 1n, BigInt(extrinsic.length)]);
    expect(first.rw.slice(L.preimage, L.preimage + extrinsic.length)).toEqual(extrinsic);
    expect(first.exportsCount).toBe(1);

    // a second package imports segment 0 of the first by its package hash (GP ImportSpec, bit 15 set)
    const importer = wordCountPackage(service.id, blake2b256(code), '');
    importer.items[0] = { ...itemOf(importer), import_segments: [{ tree_root: fromHex(a.hash, 32), index: 0x8000 }] };
    const b = await finish(importer);
    expect(b.status).toBe('accumulated');
    const second = await output(b.hash);
    expect(second.results[3]).toBe(BigInt(GP_SEGMENT_SIZE));
    expect(second.rw.slice(L.imported, L.imported + 64)).toEqual(extrinsic.slice(0, 64));
  });

  it('refuses code that is neither WebAssembly nor a JAM service blob with 422 invalid_code and the reason', async () => {
    const bad = Uint8Array.from([...echoService(), 0]);
    const put = await client.putPreimage(bad);
    const r = await api(base, token, 'POST', '/jam/services', JSON.stringify({ code_hash: put.hash }), { 'Content-Type': 'application/json' });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('invalid_code');
    expect(r.json.error.details.reason).toBe('neither a WebAssembly module (no \\0asm magic) nor a valid JAM service blob: 1 bytes after the code blob');
    expect(toHex(blake2b256(bad))).toBe(put.hash);
  });
});
