/**
 * Logging hygiene (threat model "Data Exfiltration": avoid logging blob contents, hash tokens in
 * logs). One embedded process with every role at JAM_LOG_LEVEL=debug serves a suite of requests
 * with a known token and a known blob (uploaded, read back, refused on a hash mismatch, used as a
 * work package payload refined and accumulated by the workers, a wrong token, a token misplaced in
 * the query string). Its whole stdout/stderr must hold neither the token, nor the Authorization
 * header value, nor the blob's bytes in any common spelling, and must hold the short token hash.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { blake2b256, encodeWorkPackage, initHashing, toHex, type WorkPackage } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort, untilProgress } from '../support/jam-server';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

describe('logs never carry tokens, Authorization headers or blob bytes', () => {
  const token = `secret-token-${randomBytes(16).toString('hex')}`;
  const digest = createHash('sha256').update(token).digest('hex');
  const tokenHash = digest.slice(0, 12);
  // Printable, so a raw (utf8) leak is detectable as well as hex/base64 ones.
  const blob = Buffer.from(`BLOB-${randomBytes(24).toString('hex')}-words for the word count service`, 'utf8');
  let dataDir: string;
  let port: number;
  let base: string;
  let server: JamProcess;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-logs-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await initHashing();
    server = await JamProcess.start(
      { JAM_DATA_DIR: dataDir, JAM_PORT: String(port), JAM_LOG_LEVEL: 'debug', JAM_ALLOWED_TOKENS: `logs=${digest}`, JAM_SANDBOX_POOL_SIZE: '1' },
      { port, timeoutMs: 90_000 },
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'runs a request suite and finds only the token hash in the output',
    async () => {
      const blobHash = toHex(blake2b256(blob));
      expect((await api(base, token, 'PUT', `/jam/preimages/${blobHash}`, new Uint8Array(blob))).status).toBe(201);
      expect((await api(base, token, 'GET', `/jam/preimages/${blobHash}`)).text).toBe(blob.toString('utf8'));
      expect((await api(base, token, 'GET', `/jam/preimages/${blobHash}/meta`)).status).toBe(200);
      expect((await api(base, token, 'PUT', `/jam/preimages/0x${'00'.repeat(32)}`, new Uint8Array(blob))).status).toBe(422);
      expect((await api(base, `${token}x`, 'GET', '/jam/services')).status).toBe(401);
      expect((await api(base, undefined, 'GET', `/jam/services?access_token=${token}`)).status).toBe(400);
      expect((await api(base, token, 'POST', '/jam/services', blob.toString('utf8'), { 'Content-Type': 'application/json' })).status).toBe(400);

      const code = fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm'));
      const codeHash = blake2b256(new Uint8Array(code));
      expect((await api(base, token, 'PUT', `/jam/preimages/${toHex(codeHash)}`, new Uint8Array(code))).status).toBe(201);
      const svc = await api(base, token, 'POST', '/jam/services', JSON.stringify({ code_hash: toHex(codeHash) }), { 'Content-Type': 'application/json' });
      expect(svc.status).toBe(201);
      const zero = new Uint8Array(32);
      const pkg: WorkPackage = {
        authorization: new Uint8Array(0),
        auth_code_host: svc.json.id,
        auth_code_hash: codeHash,
        authorizer_config: new Uint8Array(0),
        context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
        items: [
          {
            service: svc.json.id,
            code_hash: codeHash,
            payload: new Uint8Array(blob),
            refine_gas_limit: 10_000_000n,
            accumulate_gas_limit: 1_000_000n,
            import_segments: [],
            extrinsic: [{ hash: blake2b256(blob), len: blob.length }],
            export_count: 0,
          },
        ],
      };
      const submitted = await api(base, token, 'POST', '/jam/packages', encodeWorkPackage(pkg), { 'Content-Type': 'application/octet-stream' });
      expect(submitted.status).toBe(202);
      let status = '';
      await untilProgress(
        'the package to finish',
        async () => {
          status = (await api(base, token, 'GET', `/jam/packages/${submitted.json.hash}`)).json.status;
          return ['accumulated', 'failed', 'disputed'].includes(status) ? status : undefined;
        },
        { progress: () => [status, server.progress()], stallMs: 60_000, intervalMs: 100 },
      );
      expect(status).toBe('accumulated');
      expect((await api(base, token, 'GET', `/jam/reports/${submitted.json.hash}`)).status).toBe(200);

      await server.stop();
      const out = server.output.join('');
      expect(out).toMatch(/"level":20,/); // debug lines were really on
      const forbidden: [string, string][] = [
        ['token', token],
        ['Authorization header value', `Bearer ${token}`],
        ['token digest (full)', digest],
        ['blob raw', blob.toString('utf8')],
        ['blob raw prefix', blob.toString('utf8').slice(0, 40)],
        ['blob hex', blob.toString('hex')],
        ['blob hex prefix', blob.toString('hex').slice(0, 48)],
        ['blob base64', blob.toString('base64').slice(0, 40)],
      ];
      for (const [what, value] of forbidden) expect({ what, found: out.includes(value) }).toEqual({ what, found: false });
      expect(out).toContain(`"token_hash":"${tokenHash}"`);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
