/**
 * Black-box end-to-end test of the embedded default (`npm start`): one real process on PGlite and
 * the in-process queue, driven over HTTP and through the real `jam` CLI.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, api, freePort, runCli } from '../support/jam-server';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const VECTORS = path.resolve(__dirname, '../fixtures/jam-vectors/codec/tiny');
const VECTOR_HASH = '0xef4afe1c68afc76d148d91c3b3627decf0d8f361c6aae1e42e0ca0b5bd7a2033';

/** Sends only the headers of a PUT declaring `length` bytes and returns the answer; no body byte is written. */
function headersOnlyUpload(port: number, token: string, length: number, expectContinue: boolean): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/jam/preimages/0x${'11'.repeat(32)}`,
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(length), ...(expectContinue ? { Expect: '100-continue' } : {}) },
    });
    req.on('continue', () => reject(new Error('server asked for the body of an oversized upload')));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('embedded mode, end to end', () => {
  let dataDir: string;
  let port: number;
  let base: string;
  let token: string;
  let server: JamProcess;
  const adminToken = `ops-${randomBytes(16).toString('hex')}`;
  const env = () => ({
    JAM_DATA_DIR: dataDir,
    JAM_PORT: String(port),
    JAM_MAX_PREIMAGE_BYTES: String(8 * 1024 * 1024),
    JAM_ADMIN_TOKENS: `ops=${createHash('sha256').update(adminToken).digest('hex')}`,
  });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-embedded-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await JamProcess.start(env(), { port, timeoutMs: 90_000 });
    token = fs.readFileSync(path.join(dataDir, 'dev-token'), 'utf8').trim();
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a dev token on first start and refuses requests without it', async () => {
    expect(token).toMatch(/^jam_dev_/);
    expect(fs.statSync(path.join(dataDir, 'dev-token')).mode & 0o077).toBe(0);
    // blobs and keys are closed to other users (the sandbox executors run as one when started as root)
    for (const d of ['blobs', 'keys']) expect(fs.statSync(path.join(dataDir, d)).mode & 0o077).toBe(0);
    const anon = await api(base, undefined, 'GET', '/jam/services');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anon.json.error.code).toBe('unauthorized');
    const wrong = await api(base, 'jam_dev_not-the-token', 'GET', '/jam/services');
    expect(wrong.status).toBe(401);
    const ok = await api(base, token, 'GET', '/jam/services');
    expect(ok.status).toBe(200);
    expect(Array.isArray(ok.json.items)).toBe(true);
  });

  it('has no queue board (in-process queue): /admin/queues answers the admin 404 saying why, after the same authentication', async () => {
    expect((await api(base, undefined, 'GET', '/admin/queues')).status).toBe(401);
    for (const p of ['/admin/queues', '/admin/queues/api/queues']) {
      const r = await api(base, adminToken, 'GET', p);
      expect([r.status, r.json.error.code]).toEqual([404, 'not_found']);
      expect(r.json.error.message).toContain('in-process queue (embedded mode)');
    }
  });

  it('refuses a second server on the same data directory, naming the holder', async () => {
    const second = await JamProcess.start({ ...env(), JAM_PORT: String(await freePort()) });
    expect(await second.waitExit(60_000)).toBe(1);
    expect(second.output.join('')).toContain(`is in use by pid ${server.child.pid} (port ${port})`);
    // The first server is untouched.
    expect((await api(base, token, 'GET', '/jam/services')).status).toBe(200);
  });

  it(
    'explains a busy port instead of printing a stack trace',
    async () => {
      const other = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-port-'));
      try {
        const p = await JamProcess.start({ JAM_DATA_DIR: other, JAM_PORT: String(port) });
        expect(await p.waitExit(90_000)).toBe(1);
        expect(p.output.join('')).toContain(`port ${port} on 127.0.0.1 is in use; set JAM_PORT`);
        expect(p.output.join('')).not.toMatch(/\n\s+at /);
      } finally {
        fs.rmSync(other, { recursive: true, force: true });
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it('dry-runs the codec vector as GP binary and as GP JSON to the same hash and JSON', async () => {
    const bin = fs.readFileSync(path.join(VECTORS, 'work_package.bin'));
    const json = fs.readFileSync(path.join(VECTORS, 'work_package.json'), 'utf8');
    const fromBin = await api(base, token, 'POST', '/jam/packages?dry_run=true', new Uint8Array(bin), { 'Content-Type': 'application/octet-stream' });
    expect(fromBin.status).toBe(200);
    expect(fromBin.json.hash).toBe(VECTOR_HASH);
    expect(fromBin.json.package).toEqual(JSON.parse(json));
    // The vector names services that are not registered here: reported, not stored.
    expect(fromBin.json.problems.map((p: { code: string }) => p.code)).toContain('unknown_service');
    const fromJson = await api(base, token, 'POST', '/jam/packages?dry_run=true', json, { 'Content-Type': 'application/json' });
    expect(fromJson.status).toBe(200);
    expect(fromJson.json.hash).toBe(VECTOR_HASH);
    expect((await api(base, token, 'GET', `/jam/packages/${VECTOR_HASH}`)).status).toBe(404);
  });

  it('answers bad input with a 4xx and the JSON error shape, never a 500', async () => {
    const cases: [string, string, string | Uint8Array | undefined, Record<string, string>, number, string][] = [
      ['PUT', `/jam/preimages/0x${'00'.repeat(32)}`, 'hello', { 'Content-Type': 'application/octet-stream' }, 422, 'hash_mismatch'],
      ['PUT', '/jam/preimages/not-a-hash', 'hello', {}, 400, 'invalid_hex'],
      ['GET', `/jam/preimages/0x${'22'.repeat(32)}`, undefined, {}, 404, 'not_found'],
      ['GET', `/jam/preimages/0x${'22'.repeat(32)}/meta`, undefined, {}, 404, 'not_found'],
      ['POST', '/jam/services', '{"code_hash":"0x' + '33'.repeat(32) + '"}', { 'Content-Type': 'application/json' }, 422, 'unknown_preimage'],
      ['POST', '/jam/services', '{"code_hash":42}', { 'Content-Type': 'application/json' }, 400, 'invalid_request'],
      ['POST', '/jam/services', '{not json', { 'Content-Type': 'application/json' }, 400, 'invalid_json'],
      ['POST', '/jam/services', '{"code_hash":"0x' + '33'.repeat(32) + '","extra":1}', { 'Content-Type': 'application/json' }, 400, 'invalid_request'],
      ['GET', '/jam/services/notanumber', undefined, {}, 400, 'invalid_request'],
      ['GET', '/jam/services/99999999', undefined, {}, 404, 'not_found'],
      ['GET', '/jam/services?limit=100000', undefined, {}, 400, 'invalid_request'],
      ['GET', '/jam/services/1/storage/zz', undefined, {}, 400, 'invalid_hex'],
      // `0x` alone is the empty key a service may write: accepted (404: no such value), not 400
      ['GET', '/jam/services/1/storage/0x', undefined, {}, 404, 'not_found'],
      ['GET', `/jam/services/1/storage/0x${'00'.repeat(257)}`, undefined, {}, 400, 'invalid_hex'],
      ['POST', '/jam/packages', new Uint8Array([1, 2, 3]), { 'Content-Type': 'application/octet-stream' }, 400, 'invalid_encoding'],
      ['POST', '/jam/packages', '{"items": 3}', { 'Content-Type': 'application/json' }, 422, 'invalid_package'],
      ['POST', '/jam/packages', '[1,', { 'Content-Type': 'application/json' }, 400, 'invalid_json'],
      ['POST', '/jam/packages', 'hello', { 'Content-Type': 'text/plain' }, 400, 'invalid_request'],
      ['GET', '/jam/packages/0x1234', undefined, {}, 400, 'invalid_hex'],
      ['GET', `/jam/packages/0x${'44'.repeat(32)}`, undefined, {}, 404, 'not_found'],
      ['GET', `/jam/reports/0x${'44'.repeat(32)}`, undefined, {}, 404, 'not_found'],
      ['GET', `/jam/services?access_token=${'x'.repeat(20)}`, undefined, {}, 400, 'invalid_request'],
      ['GET', '/jam/nothing-here', undefined, {}, 404, 'not_found'],
    ];
    for (const [method, p, body, headers, status, code] of cases) {
      const r = await api(base, token, method, p, body, headers);
      expect({ method, p, status: r.status, code: r.json?.error?.code }).toEqual({ method, p, status, code });
      expect(typeof r.json.error.message).toBe('string');
    }
    // Oversized uploads are refused from the headers alone: the client never sends the body.
    for (const expectContinue of [false, true]) {
      const r = await headersOnlyUpload(port, token, 9 * 1024 * 1024, expectContinue);
      expect({ expectContinue, status: r.status, code: r.body.error.code }).toEqual({ expectContinue, status: 413, code: 'payload_too_large' });
    }
    // A non-Wasm preimage is stored, but cannot become a service.
    const bytes = Buffer.from('definitely not wasm');
    const { blake2b256, toHex, initHashing } = await import('@jam/domain');
    await initHashing();
    const h = toHex(blake2b256(bytes));
    expect((await api(base, token, 'PUT', `/jam/preimages/${h}`, new Uint8Array(bytes))).status).toBe(201);
    expect((await api(base, token, 'PUT', `/jam/preimages/${h}`, new Uint8Array(bytes))).status).toBe(200);
    const svc = await api(base, token, 'POST', '/jam/services', JSON.stringify({ code_hash: h }), { 'Content-Type': 'application/json' });
    expect(svc.status).toBe(422);
    expect(svc.json.error.code).toBe('invalid_code');
  });

  it("streams a package's status changes as server-sent events until it is accumulated", async () => {
    const { blake2b256, toHex, initHashing, encodeWorkPackage, packageHash } = await import('@jam/domain');
    await initHashing();
    const code = new Uint8Array(fs.readFileSync(path.join(__dirname, '../../services/word-count/build/word-count.wasm')));
    const codeHash = toHex(blake2b256(code));
    expect([200, 201]).toContain((await api(base, token, 'PUT', `/jam/preimages/${codeHash}`, code)).status);
    const service = await api(base, token, 'POST', '/jam/services', JSON.stringify({ code_hash: codeHash }), { 'Content-Type': 'application/json' });
    expect(service.status).toBe(201);
    const zero = new Uint8Array(32);
    const pkg = {
      authorization: new Uint8Array(0),
      auth_code_host: service.json.id,
      auth_code_hash: blake2b256(code),
      authorizer_config: new Uint8Array(0),
      context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
      items: [
        {
          service: service.json.id,
          code_hash: blake2b256(code),
          payload: new TextEncoder().encode('events stream by'),
          refine_gas_limit: 5_000_000n,
          accumulate_gas_limit: 1_000_000n,
          import_segments: [],
          extrinsic: [],
          export_count: 0,
        },
      ],
    };
    const hash = toHex(packageHash(pkg));
    const submitted = await api(base, token, 'POST', '/jam/packages', encodeWorkPackage(pkg), { 'Content-Type': 'application/octet-stream' });
    expect(submitted.status).toBe(202);
    const res = await fetch(`${base}/jam/packages/${hash}/events`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text(); // the server ends the stream at the terminal status
    const statuses = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!).status as string);
    const order = ['pending', 'refining', 'attesting', 'attested', 'accumulating', 'accumulated'];
    expect(statuses[statuses.length - 1]).toBe('accumulated');
    expect(statuses.map((st) => order.indexOf(st))).toEqual([...statuses.map((st) => order.indexOf(st))].sort((a, b) => a - b));
    expect(new Set(statuses).size).toBe(statuses.length);
    const missing = await api(base, token, 'GET', `/jam/packages/0x${'55'.repeat(32)}/events`);
    expect([missing.status, missing.json.error.code]).toEqual([404, 'not_found']);
  });

  it(
    'runs `jam demo` to completion and keeps everything across a restart',
    async () => {
      const demo = await runCli(['demo', '--url', base, '--token', token], {}, PROCESS_TEST_TIMEOUT_MS);
      if (demo.code !== 0)
        throw new Error(`demo failed (${demo.code}):\n${demo.stdout}\n${demo.stderr}\n--- server ---\n${server.output.join('').slice(-5000)}`);
      expect(demo.stdout).toMatch(/demo: OK: \d+ packages accumulated/);

      const services = (await api(base, token, 'GET', '/jam/services?limit=500')).json.items as { id: number }[];
      const serviceId = services[services.length - 1]!.id;
      const before = await api(base, token, 'GET', `/jam/services/${serviceId}/storage/0x776f726473`);
      expect(before.status).toBe(200);
      const pkgs = (await api(base, token, 'GET', `/jam/services/${serviceId}/packages`)).json.items as { hash: string; status: string }[];
      expect(pkgs.length).toBeGreaterThan(0);
      expect(pkgs.every((p) => p.status === 'accumulated')).toBe(true);
      const report = await api(base, token, 'GET', `/jam/reports/${pkgs[0]!.hash}`);
      expect(report.status).toBe(200);
      expect(report.json.attestations.length).toBeGreaterThanOrEqual(2);
      expect(report.json.verdict).toBe('attested');

      expect(await server.stop()).toBe(0);
      server = await JamProcess.start(env(), { port, timeoutMs: 90_000 });
      expect(fs.readFileSync(path.join(dataDir, 'dev-token'), 'utf8').trim()).toBe(token);
      const after = await api(base, token, 'GET', `/jam/services/${serviceId}/storage/0x776f726473`);
      expect(after.json).toEqual(before.json);
      const pkgAfter = await api(base, token, 'GET', `/jam/packages/${pkgs[0]!.hash}`);
      expect(pkgAfter.json.status).toBe('accumulated');
      expect((await api(base, token, 'GET', `/jam/services/${serviceId}`)).status).toBe(200);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
  it("takes an external attester's signature on POST /jam/reports/{hash}/attestations, checked before it is queued", async () => {
    const services = (await api(base, token, 'GET', '/jam/services?limit=500')).json.items as { id: number }[];
    const pkgs = (await api(base, token, 'GET', `/jam/services/${services[services.length - 1]!.id}/packages`)).json.items as { hash: string }[];
    const reportHash = (await api(base, token, 'GET', `/jam/reports/${pkgs[0]!.hash}`)).json.report_hash as string;
    const key = createPrivateKey(fs.readFileSync(path.join(dataDir, 'keys', 'attester-1.pem')));
    const signature = (h: string) => `0x${sign(null, Buffer.concat([Buffer.from('jam_guarantee'), Buffer.from(h.slice(2), 'hex')]), key).toString('hex')}`;
    const post = (h: string, body: unknown) =>
      api(base, token, 'POST', `/jam/reports/${h}/attestations`, JSON.stringify(body), { 'Content-Type': 'application/json' });
    const ok = await post(reportHash, { attester_index: 1, signature: signature(reportHash) });
    expect([ok.status, ok.json]).toEqual([202, { report_hash: reportHash, attester_index: 1, status: 'queued' }]);
    const cases: [string, unknown, number, string][] = [
      [reportHash, { attester_index: 0, signature: signature(reportHash) }, 422, 'invalid_signature'], // attester 1's key, claimed as 0
      [reportHash, { attester_index: 7, signature: signature(reportHash) }, 422, 'unknown_attester'],
      [reportHash, { attester_index: 1, signature: '0x1234' }, 400, 'invalid_request'],
      [reportHash, { attester_index: 1 }, 400, 'invalid_request'],
      [`0x${'66'.repeat(32)}`, { attester_index: 1, signature: signature(`0x${'66'.repeat(32)}`) }, 404, 'not_found'],
    ];
    for (const [h, body, status, code] of cases) {
      const r = await post(h, body);
      expect({ body, status: r.status, code: r.json.error.code }).toEqual({ body, status, code });
    }
    // Still exactly one attestation per attester on that report.
    const report = await api(base, token, 'GET', `/jam/reports/${pkgs[0]!.hash}`);
    const indexes = (report.json.attestations as { attester_index: number }[]).map((a) => a.attester_index).sort();
    expect(indexes).toEqual([...new Set(indexes)]);
    expect(indexes).toContain(1);
  });
});
