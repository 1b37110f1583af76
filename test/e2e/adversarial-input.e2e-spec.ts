/**
 * Adversarial inputs against the gateway (production mode, gateway role only, so submitted
 * packages stay `pending`): u32 service ids beyond PostgreSQL's signed `integer`, forged keyset
 * cursors, an ambiguous `dry_run`, and a flood of server-sent event streams. Every refusal must be
 * a 4xx in the JSON error shape, never a 500, and a dry run must never store anything.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort, untilProgress } from '../support/jam-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL, createTestRedis } from '../support/redis';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const ZERO = '0x' + '00'.repeat(32);
/** Mirrors MAX_EVENT_STREAMS_PER_PRINCIPAL in apps/gateway/src/packages.controller.ts. */
const STREAM_CAP = 32;

function packageJson(service: number, codeHash: string, payload: string): string {
  return JSON.stringify({
    auth_code_host: 0,
    auth_code_hash: ZERO,
    context: { anchor: ZERO, state_root: ZERO, beefy_root: ZERO, lookup_anchor: ZERO, lookup_anchor_slot: 0, prerequisites: [] },
    authorization: '0x',
    authorizer_config: '0x',
    items: [
      {
        service,
        code_hash: codeHash,
        refine_gas_limit: 1_000_000,
        accumulate_gas_limit: 100_000,
        export_count: 0,
        payload,
        import_segments: [],
        extrinsic: [],
      },
    ],
  });
}

/** Opens an SSE stream; resolves with its status once the headers arrive (the request stays open). */
function openStream(port: number, token: string, hash: string): Promise<{ status: number; req: http.ClientRequest; ended: Promise<string> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = http.get(
      { host: '127.0.0.1', port, path: `/jam/packages/${hash}/events`, headers: { Authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        res.on('data', (d: Buffer) => (text += d.toString()));
        const ended = new Promise<string>((done) => {
          res.on('end', () => done(text));
          res.on('error', () => done(text));
        });
        resolve({ status: res.statusCode ?? 0, req, ended });
      },
    );
    req.on('error', reject);
  });
}

describe('adversarial input at the gateway', () => {
  const testRedis = createTestRedis('e2eadv');
  const prefix = testRedis.prefix;
  const token = `adv-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let port: number;
  let base: string;
  let db: TestDatabase | undefined;
  let gateway: JamProcess | undefined;
  let serviceId: number;
  let codeHash: string;

  const call = (method: string, p: string, body?: string | Uint8Array, headers: Record<string, string> = {}) => api(base, token, method, p, body, headers);

  beforeAll(async () => {
    await initHashing();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-adv-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    db = await createTestDatabase('e2e_adv');
    gateway = await JamProcess.start(
      {
        DATABASE_URL: db.url,
        REDIS_URL,
        JAM_QUEUE_PREFIX: prefix,
        JAM_ROLES: 'gateway',
        JAM_PORT: String(port),
        JAM_DATA_DIR: path.join(tmp, 'data'),
        JAM_BLOB_DIR: path.join(tmp, 'blobs'),
        JAM_KEYS_DIR: path.join(tmp, 'keys'),
        JAM_ALLOWED_TOKENS: `adv=${createHash('sha256').update(token).digest('hex')}`,
      },
      { port, timeoutMs: 45_000 },
    );
    const code = fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm'));
    codeHash = toHex(blake2b256(code));
    expect((await call('PUT', `/jam/preimages/${codeHash}`, new Uint8Array(code))).status).toBe(201);
    const svc = await call('POST', '/jam/services', JSON.stringify({ code_hash: codeHash }), { 'Content-Type': 'application/json' });
    expect(svc.status).toBe(201);
    serviceId = svc.json.id;
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.stop();
    await testRedis.cleanup();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('answers service ids from 2^31 to 2^32-1 (valid u32, beyond the integer column) as unknown, never 500', async () => {
    for (const id of [2 ** 31, 2 ** 32 - 1]) {
      for (const p of [`/jam/services/${id}`, `/jam/services/${id}/storage/0x00`, `/jam/services/${id}/packages`]) {
        const r = await call('GET', p);
        expect({ p, status: r.status, code: r.json?.error?.code }).toEqual({ p, status: 404, code: 'not_found' });
      }
      const sub = await call('POST', '/jam/packages', packageJson(id, codeHash, '0x01'), { 'Content-Type': 'application/json' });
      expect(sub.status).toBe(422);
      expect(sub.json.error.details.problems.map((x: { code: string }) => x.code)).toEqual(['unknown_service']);
    }
  });

  it('refuses a forged package-list cursor with an impossible timestamp as 400, never 500', async () => {
    for (const time of ['9999-99-99T99:99:99.999999', '2026-02-30T00:00:00.000000', '0000-01-01T00:00:00.000000']) {
      const cursor = Buffer.from(`${time}|${ZERO}`).toString('base64url');
      const r = await call('GET', `/jam/services/${serviceId}/packages?cursor=${cursor}`);
      expect({ time, status: r.status, code: r.json?.error?.code }).toEqual({ time, status: 400, code: 'invalid_request' });
    }
  });

  it('never stores a package when dry_run is repeated or not a known value', async () => {
    for (const q of ['dry_run=true&dry_run=true', 'dry_run=true&dry_run=false', 'dry_run=yes', 'dry_run=']) {
      const body = packageJson(serviceId, codeHash, toHex(new TextEncoder().encode(`dry ${q}`)));
      const r = await call('POST', `/jam/packages?${q}`, body, { 'Content-Type': 'application/json' });
      expect({ q, status: r.status, code: r.json?.error?.code }).toEqual({ q, status: 400, code: 'invalid_request' });
      const dry = await call('POST', '/jam/packages?dry_run=true', body, { 'Content-Type': 'application/json' });
      expect(dry.status).toBe(200);
      expect((await call('GET', `/jam/packages/${dry.json.hash}`)).status).toBe(404);
    }
    const off = await call('POST', '/jam/packages?dry_run=false', packageJson(serviceId, codeHash, '0x0f'), { 'Content-Type': 'application/json' });
    expect(off.status).toBe(202);
  });

  it('caps the concurrent event streams of one principal (429 JSON) and frees a slot when a stream closes', async () => {
    const sub = await call('POST', '/jam/packages', packageJson(serviceId, codeHash, '0xee'), { 'Content-Type': 'application/json' });
    expect(sub.status).toBe(202);
    const hash = sub.json.hash as string;
    const streams = [];
    try {
      for (let i = 0; i < STREAM_CAP; i++) streams.push(await openStream(port, token, hash));
      expect(streams.map((s) => s.status)).toEqual(Array(STREAM_CAP).fill(200));
      const over = await openStream(port, token, hash);
      streams.push(over);
      expect(over.status).toBe(429);
      const overBody = JSON.parse(await over.ended);
      expect(overBody.error.code).toBe('rate_limited');
      expect(overBody.error.details).toMatchObject({ scope: 'event_streams', limit: STREAM_CAP });
      // The other routes still answer.
      expect((await call('GET', `/jam/packages/${hash}`)).json.status).toBe('pending');
      streams.shift()!.req.destroy(); // an open (200) stream
      // the freed slot is released when the server sees the close: poll while the server works
      let again: Awaited<ReturnType<typeof openStream>> | undefined;
      await untilProgress(
        'a freed stream slot',
        async () => {
          again?.req.destroy();
          again = await openStream(port, token, hash);
          return again.status === 200 ? again : undefined;
        },
        { progress: () => gateway!.progress(), stallMs: 30_000, intervalMs: 100 },
      );
      streams.push(again!);
      expect(again!.status).toBe(200);
    } finally {
      for (const s of streams) s.req.destroy();
    }
  });
});
