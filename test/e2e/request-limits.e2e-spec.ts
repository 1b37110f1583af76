/**
 * Size caps, timeouts and paging of the gateway over real sockets (threat model "DoS / Resource
 * Exhaustion"): lying Content-Length both ways, a chunked upload past max_preimage_bytes, a
 * stalled and a slow-drip upload, the header and URL caps, the JSON body cap of packages, and
 * keyset paging of a service's packages while packages are inserted. One embedded process with
 * short limits; after every refused upload nothing is stored (no row, no blob, no temp file).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { blake2b256, encodeWorkPackage, initHashing, toHex } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, api, freePort } from '../support/jam-server';
import { metricValue, rawExchange } from '../support/raw-http';
import { wordCountPackage } from '../support/fixtures';

// Hooks and tests wait on real processes; their waits are bounded by progress (test/support/jam-server.ts).
jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const MAX_PREIMAGE = 64 * 1024;
const BODY_IDLE_MS = 700;
const REQUEST_TIMEOUT_MS = 3000;
const HEADERS_TIMEOUT_MS = 1500;

describe('request caps, timeouts and paging (embedded gateway, real sockets)', () => {
  const token = `limits-${randomBytes(16).toString('hex')}`;
  let dataDir: string;
  let port: number;
  let base: string;
  let server: JamProcess;
  const auth = () => `Authorization: Bearer ${token}\r\n`;

  /** Nothing of `hash` is stored: no row (404 meta), no blob file, no temp file left behind. */
  async function expectNothingStored(hash: string): Promise<void> {
    expect((await api(base, token, 'GET', `/jam/preimages/${hash}/meta`)).status).toBe(404);
    expect(fs.existsSync(path.join(dataDir, 'blobs', hash.slice(2, 4), hash))).toBe(false);
    // The blob store deletes its temp file in a finally block after the stream fails: give it a moment.
    for (let i = 0; i < 20 && fs.readdirSync(path.join(dataDir, 'blobs', 'tmp')).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'tmp'))).toEqual([]);
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-limits-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await initHashing();
    server = await JamProcess.start(
      {
        JAM_DATA_DIR: dataDir,
        JAM_PORT: String(port),
        JAM_ALLOWED_TOKENS: `limits=${createHash('sha256').update(token).digest('hex')}`,
        JAM_MAX_PREIMAGE_BYTES: String(MAX_PREIMAGE),
        JAM_MAX_URL_BYTES: '512',
        JAM_MAX_HEADER_BYTES: '4096',
        JAM_BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_MS),
        JAM_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        JAM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        JAM_RATE_LIMIT_PER_MINUTE: '100000',
      },
      { port, timeoutMs: 90_000 },
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    if (process.env.JAM_TEST_DUMP) console.log(server?.output.join('').slice(-6000));
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a Content-Length shorter than the body: the declared bytes are the body, the rest is refused as malformed, nothing stored', async () => {
    const body = randomBytes(40);
    const hash = toHex(blake2b256(body));
    const r = await rawExchange(port, [`PUT /jam/preimages/${hash} HTTP/1.1\r\nHost: x\r\n${auth()}Content-Length: 20\r\n\r\n`, body]);
    expect(r.closed).toBe(true);
    // The first 20 bytes do not hash to the URL's hash (422), or the trailing garbage is answered first (400).
    const statuses = r.responses.map((x) => x.status);
    expect(statuses.length).toBeGreaterThan(0);
    for (const x of r.responses) expect([400, 422]).toContain(x.status);
    for (const x of r.responses) expect(['hash_mismatch', 'invalid_request']).toContain(x.json.error.code);
    await expectNothingStored(hash);
  });

  it('a Content-Length longer than the body: a stall gets 408 within the idle timeout, a half-close is dropped; nothing stored', async () => {
    const body = randomBytes(100);
    const hash = toHex(blake2b256(body));
    const head = `PUT /jam/preimages/${hash} HTTP/1.1\r\nHost: x\r\n${auth()}Content-Length: 1000\r\n\r\n`;
    const stalled = await rawExchange(port, [head, body]);
    expect(stalled.closed).toBe(true);
    expect(stalled.responses.map((x) => [x.status, x.json?.error?.code])).toEqual([[408, 'request_timeout']]);
    expect(stalled.responses[0]!.headers.connection).toBe('close');
    expect(stalled.closedAfterMs).toBeGreaterThanOrEqual(BODY_IDLE_MS - 50);
    await expectNothingStored(hash);
    const halfClosed = await rawExchange(port, [head, body, 'end']);
    expect(halfClosed.closed).toBe(true);
    await expectNothingStored(hash);
  });

  it('a chunked upload past max_preimage_bytes is cut at the cap: 413 or reset, connection closed, nothing stored', async () => {
    const before = metricValue((await api(base, undefined, 'GET', '/metrics')).text, 'jam_quota_rejected_total', { quota: 'max_preimage_bytes' });
    const chunk = randomBytes(16 * 1024);
    const total = Buffer.concat(Array(8).fill(chunk));
    const hash = toHex(blake2b256(total));
    const parts: (string | Buffer | number)[] = [`PUT /jam/preimages/${hash} HTTP/1.1\r\nHost: x\r\n${auth()}Transfer-Encoding: chunked\r\n\r\n`];
    for (let i = 0; i < 8; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n', 20);
    parts.push('0\r\n\r\n');
    const r = await rawExchange(port, parts);
    expect(r.closed).toBe(true);
    if (r.responses.length > 0) expect(r.responses.map((x) => [x.status, x.json?.error?.code])).toEqual([[413, 'payload_too_large']]);
    else expect(r.writeError).toBeDefined();
    await expectNothingStored(hash);
    const after = metricValue((await api(base, undefined, 'GET', '/metrics')).text, 'jam_quota_rejected_total', { quota: 'max_preimage_bytes' });
    expect(after).toBe(before + 1);
  });

  it(
    'a slow drip that never pauses long enough for the idle timeout is cut by request_timeout_ms with 408',
    async () => {
      const body = randomBytes(200);
      const hash = toHex(blake2b256(body));
      const parts: (string | Buffer | number)[] = [`PUT /jam/preimages/${hash} HTTP/1.1\r\nHost: x\r\n${auth()}Content-Length: ${body.length}\r\n\r\n`];
      for (let i = 0; i < body.length; i++) parts.push(body.subarray(i, i + 1), 200);
      const r = await rawExchange(port, parts);
      expect(r.closed).toBe(true);
      expect(r.responses.map((x) => [x.status, x.json?.error?.code])).toEqual([[408, 'request_timeout']]);
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      await expectNothingStored(hash);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it('headers that never finish get 408 after headers_timeout_ms', async () => {
    const r = await rawExchange(port, [`GET /jam/services HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: 1\r\n']);
    expect(r.closed).toBe(true);
    expect(r.responses.map((x) => [x.status, x.json?.error?.code])).toEqual([[408, 'request_timeout']]);
  });

  it('caps headers (431) and the URL (414) with the JSON error shape', async () => {
    const big = await rawExchange(port, [`GET /jam/services HTTP/1.1\r\nHost: x\r\n${auth()}X-Big: ${'a'.repeat(6000)}\r\n\r\n`]);
    expect(big.closed).toBe(true);
    expect(big.responses.map((x) => [x.status, x.json?.error?.code])).toEqual([[431, 'header_too_large']]);
    const longUrl = `/jam/services?x=${'a'.repeat(600)}`;
    const long = await api(base, token, 'GET', longUrl);
    expect([long.status, long.json.error.code]).toEqual([414, 'uri_too_long']);
    expect(long.json.error.details.max_bytes).toBe(512);
    // Refused before authentication too.
    expect((await api(base, undefined, 'GET', longUrl)).status).toBe(414);
    expect((await api(base, token, 'GET', `/jam/services?x=${'a'.repeat(400)}`)).status).toBe(200);
  });

  it('refuses an oversized package body from its Content-Length (GP W_B cap), before reading it', async () => {
    const r = await rawExchange(port, [
      `POST /jam/packages HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/octet-stream\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`,
    ]);
    expect(r.responses.map((x) => [x.status, x.json?.error?.code])).toEqual([[413, 'payload_too_large']]);
    expect(r.closed).toBe(true);
  });

  it(
    "pages a service's packages without skipping or repeating a row while packages are inserted",
    async () => {
      const code = fs.readFileSync(path.join(REPO_ROOT, 'services/word-count/build/word-count.wasm'));
      const codeHash = blake2b256(new Uint8Array(code));
      expect((await api(base, token, 'PUT', `/jam/preimages/${toHex(codeHash)}`, new Uint8Array(code))).status).toBe(201);
      const svc = await api(base, token, 'POST', '/jam/services', JSON.stringify({ code_hash: toHex(codeHash) }), { 'Content-Type': 'application/json' });
      expect(svc.status).toBe(201);
      const submit = async (text: string): Promise<string> => {
        const r = await api(base, token, 'POST', '/jam/packages', encodeWorkPackage(wordCountPackage(svc.json.id, codeHash, text)), {
          'Content-Type': 'application/octet-stream',
        });
        expect(r.status).toBe(202);
        return r.json.hash as string;
      };
      const initial: string[] = [];
      for (let i = 0; i < 30; i++) initial.push(await submit(`initial ${i}`));
      let inserting = true;
      const inserted: string[] = [];
      const writer = (async () => {
        for (let i = 0; inserting && i < 200; i++) inserted.push(await submit(`concurrent ${i}`));
      })();
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const page = await api(base, token, 'GET', `/jam/services/${svc.json.id}/packages?limit=4${q}`);
        expect(page.status).toBe(200);
        seen.push(...(page.json.items as { hash: string }[]).map((p) => p.hash));
        cursor = page.json.next_cursor;
        pages++;
        await new Promise((r) => setTimeout(r, 15));
      } while (cursor !== null);
      inserting = false;
      await writer;
      expect(inserted.length).toBeGreaterThan(0);
      expect(pages).toBeGreaterThan(7);
      // No row twice, every row present before paging began seen exactly once.
      expect(new Set(seen).size).toBe(seen.length);
      for (const h of initial) expect(seen.filter((s) => s === h)).toHaveLength(1);
      // The default page is 50 and the maximum 500.
      const all = await api(base, token, 'GET', `/jam/services/${svc.json.id}/packages`);
      expect(all.json.items).toHaveLength(Math.min(50, initial.length + inserted.length));
      expect((await api(base, token, 'GET', `/jam/services/${svc.json.id}/packages?limit=501`)).status).toBe(400);
      expect((await api(base, token, 'GET', `/jam/services/${svc.json.id}/packages?limit=500`)).status).toBe(200);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
