/**
 * JIP-2 JSON-RPC over WebSocket, black box, against a real gateway with its workers (embedded
 * process started from dist/). The client below is written from the JIP-2 text
 * (polkadot-fellows/JIPs JIP-2.md) and docs/jip2.md, not from the server's code: `ws` directly,
 * JSON-RPC 2.0 frames built by hand, Blobs and Hashes as padded base64, Blake2b-256 from
 * hash-wasm. Only the work package's GP encoding comes from @jam/domain, whose codec is checked
 * byte for byte against the official JAM vectors (libs/domain/src/codec-vectors.spec.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { blake2b } from 'hash-wasm';
import { encodeWorkPackage, initHashing, type WorkPackage } from '@jam/domain';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, api, freePort, untilProgress } from '../support/jam-server';
import { wordCountPackage as baseWordCountPackage } from '../support/fixtures';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');
const hex = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString('hex')}`;
const blake = async (bytes: Uint8Array): Promise<Uint8Array> => Buffer.from(await blake2b(bytes, 256), 'hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** docs/jip2.md, "Blocks": header hash of slot s = Blake2b-256("jam-prototype/block/v1" ++ LE32(s)). */
async function headerHashOf(slot: number): Promise<string> {
  const le = Buffer.alloc(4);
  le.writeUInt32LE(slot);
  return b64(await blake(Buffer.concat([Buffer.from('jam-prototype/block/v1'), le])));
}

interface RpcError {
  code: number;
  message: string;
  data?: any;
}

/** A minimal JIP-2 client: requests by position, responses matched by id, notifications kept per subscription. */
class JipClient {
  private nextId = 1;
  private readonly pending = new Map<number, (r: { result?: any; error?: RpcError }) => void>();
  readonly raw: any[] = [];
  readonly notifications = new Map<number, { method: string; result?: any; error?: string }[]>();
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      this.raw.push(msg);
      for (const m of Array.isArray(msg) ? msg : [msg]) {
        if (m.id === undefined && m.method !== undefined) {
          const list = this.notifications.get(m.params.subscription) ?? [];
          list.push({ method: m.method, result: m.params.result, error: m.params.error });
          this.notifications.set(m.params.subscription, list);
        } else if (typeof m.id === 'number') {
          this.pending.get(m.id)?.(m);
          this.pending.delete(m.id);
        }
      }
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static open(port: number, token: string | undefined): Promise<JipClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
      ws.once('open', () => resolve(new JipClient(ws)));
      ws.once('error', reject);
    });
  }

  /** The HTTP answer to an upgrade the server refuses. */
  static refused(port: number, headers: Record<string, string>, pathAndQuery = '/'): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${pathAndQuery}`, { headers });
      ws.once('open', () => reject(new Error('upgrade was accepted')));
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      ws.once('error', () => undefined);
    });
  }

  /** One request; resolves with its whole response object. */
  request(method: string, params: unknown[] | undefined = []): Promise<{ result?: any; error?: RpcError }> {
    const id = this.nextId++;
    const frame = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify(frame));
    });
  }

  /** A request that must succeed. */
  async call(method: string, ...params: unknown[]): Promise<any> {
    const r = await this.request(method, params);
    if (r.error) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  /** A request that must fail; resolves with its error. */
  async fail(method: string, ...params: unknown[]): Promise<RpcError> {
    const r = await this.request(method, params);
    if (!r.error) throw new Error(`${method} succeeded: ${JSON.stringify(r.result)}`);
    return r.error;
  }

  /** Sends raw text and resolves with the next message the server sends. */
  sendRaw(text: string | Buffer): Promise<any> {
    const before = this.raw.length;
    this.ws.send(text);
    return untilProgress('an answer to a raw frame', async () => this.raw[before], { progress: () => this.raw.length, stallMs: 60_000, intervalMs: 20 });
  }

  close(): void {
    this.ws.close();
  }
}

describe('JIP-2 JSON-RPC over WebSocket', () => {
  let dataDir: string;
  let port: number;
  let rpcPort: number;
  let base: string;
  let server: JamProcess;
  const tokens = { alice: `alice-${randomBytes(12).toString('hex')}`, bob: `bob-${randomBytes(12).toString('hex')}` };
  let alice: JipClient;
  let bob: JipClient;
  let code: Uint8Array;
  let codeHash: Uint8Array;
  let serviceId: number;

  /** Waits for a notification of `sub` satisfying `ok`, bounded by the server's progress. */
  const notification = (client: JipClient, sub: number, ok: (n: { result?: any; error?: string }) => boolean) =>
    untilProgress(`a notification of subscription ${sub}`, async () => client.notifications.get(sub)?.find(ok), {
      progress: () => [server.progress(), client.notifications.get(sub)?.length],
      stallMs: 120_000,
      diagnose: () => `${JSON.stringify(client.notifications.get(sub))}\n${server.tail()}`,
    });

  beforeAll(async () => {
    await initHashing();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-jip2-'));
    port = await freePort();
    rpcPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await JamProcess.start(
      {
        JAM_DATA_DIR: dataDir,
        JAM_PORT: String(port),
        JAM_RPC_PORT: String(rpcPort),
        JAM_ALLOWED_TOKENS: `alice=${sha256(tokens.alice)},bob=${sha256(tokens.bob)}`,
        JAM_AUTHZ_ENABLED: 'true',
        JAM_RPC_MAX_SUBSCRIPTIONS_PER_CONNECTION: '4',
        JAM_RPC_MAX_CONNECTIONS_PER_PRINCIPAL: '3',
        JAM_RPC_MAX_MESSAGE_BYTES: String(64 * 1024),
      },
      { port, timeoutMs: 120_000 },
    );
    alice = await JipClient.open(rpcPort, tokens.alice);
    bob = await JipClient.open(rpcPort, tokens.bob);
    // Registration is not a JIP-2 method: the service is registered over the HTTP API.
    code = new Uint8Array(fs.readFileSync(path.join(__dirname, '../../services/word-count/build/word-count.wasm')));
    codeHash = await blake(code);
    expect((await api(base, tokens.alice, 'PUT', `/jam/preimages/${hex(codeHash)}`, code)).status).toBe(201);
    const svc = await api(base, tokens.alice, 'POST', '/jam/services', JSON.stringify({ code_hash: hex(codeHash) }), { 'Content-Type': 'application/json' });
    expect(svc.status).toBe(201);
    serviceId = svc.json.id;
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A one-item word-count package; `extrinsic` names one extrinsic blob when given. */
  async function wordCountPackage(text: string, extrinsic?: Uint8Array): Promise<{ encoded: Uint8Array; hash: Uint8Array }> {
    // the repository's word-count package (test/support/fixtures.ts), with this spec's gas and extrinsic
    const base = baseWordCountPackage(serviceId, codeHash, text);
    const pkg: WorkPackage = {
      ...base,
      items: [
        {
          ...base.items[0]!,
          refine_gas_limit: 5_000_000n,
          extrinsic: extrinsic ? [{ hash: await blake(extrinsic), len: extrinsic.length }] : [],
        },
      ],
    };
    const encoded = encodeWorkPackage(pkg);
    return { encoded, hash: await blake(encoded) };
  }

  it('refuses the upgrade without a valid bearer token, and a token in the query string', async () => {
    const none = await JipClient.refused(rpcPort, {});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const wrong = await JipClient.refused(rpcPort, { Authorization: 'Bearer not-a-token' });
    expect(wrong.status).toBe(401);
    const query = await JipClient.refused(rpcPort, { Authorization: `Bearer ${tokens.alice}` }, `/?token=${tokens.alice}`);
    expect(query.status).toBe(400);
    expect(query.body.error.code).toBe('invalid_request');
    // A plain HTTP request gets 426: the port speaks only WebSocket.
    const plain = await fetch(`http://127.0.0.1:${rpcPort}/`);
    expect(plain.status).toBe(426);
  });

  it('answers parameters, bestBlock and finalizedBlock as JIP-2 defines them', async () => {
    const params = await alice.call('parameters');
    expect(Object.keys(params)).toEqual(['V1']);
    for (const name of [
      'core_count',
      'max_work_items',
      'max_refine_gas',
      'max_accumulate_gas',
      'slot_period_sec',
      'recent_block_count',
      'val_count',
      'max_input',
    ]) {
      expect(typeof params.V1[name]).toBe('number');
    }
    expect(params.V1.slot_period_sec).toBe(6);
    const best = await alice.call('bestBlock');
    const finalized = await alice.call('finalizedBlock');
    expect(unb64(best.header_hash)).toHaveLength(32);
    expect(Number.isInteger(best.slot)).toBe(true);
    // docs/jip2.md: block = JAM timeslot (6 s since 2025-01-01 12:00 UTC); best = finalized.
    const nowSlot = Math.floor((Date.now() - Date.UTC(2025, 0, 1, 12)) / 6000);
    expect(Math.abs(best.slot - nowSlot)).toBeLessThanOrEqual(1);
    expect(best.header_hash).toBe(await headerHashOf(best.slot));
    expect(finalized.slot).toBeGreaterThanOrEqual(best.slot);
    expect(finalized.header_hash).toBe(await headerHashOf(finalized.slot));
  });

  it('follows the best and finalized block with subscriptions', async () => {
    const best = await alice.call('subscribeBestBlock');
    const fin = await alice.call('subscribeFinalizedBlock');
    expect(typeof best).toBe('number');
    const first = await notification(alice, best, () => true);
    const later = await notification(alice, best, (n) => n.result.slot > first.result.slot);
    expect(later.result.header_hash).toBe(await headerHashOf(later.result.slot));
    await notification(alice, fin, (n) => n.result.slot >= later.result.slot);
    expect(await alice.call('unsubscribeBestBlock', best)).toBe(true);
    expect(await alice.call('unsubscribeFinalizedBlock', fin)).toBe(true);
    expect(await alice.call('unsubscribeFinalizedBlock', fin)).toBe(false);
  });

  it('submits a package, sees its status become Ready and the service value change, then reads state, report and preimages', async () => {
    const best = await alice.call('bestBlock');
    expect(await alice.call('listServices', best.header_hash)).toContain(serviceId);
    const data = unb64(await alice.call('serviceData', best.header_hash, serviceId));
    expect(data).toHaveLength(89);
    expect(data[0]).toBe(0);
    expect(hex(data.subarray(1, 33))).toBe(hex(codeHash));
    const key = Buffer.from('words');
    expect(await alice.call('serviceValue', best.header_hash, serviceId, b64(key))).toBeNull();

    const valueSub = await alice.call('subscribeServiceValue', serviceId, b64(key), true);
    const initial = await notification(alice, valueSub, () => true);
    expect(initial.result.value).toBeNull();
    expect(unb64(initial.result.header_hash)).toHaveLength(32);

    const pkg = await wordCountPackage('jip two over web socket');
    expect(await alice.call('submitWorkPackage', 0, b64(pkg.encoded), [])).toBeNull();
    const statusSub = await alice.call('subscribeWorkPackageStatus', b64(pkg.hash), b64(new Uint8Array(32)), false);
    const ready = await notification(alice, statusSub, (n) => n.result.value.Ready !== undefined);
    const changed = await notification(alice, valueSub, (n) => n.result.value !== null);
    // The status stream saw the package before it was ready, or at once as Ready; never Failed.
    expect(alice.notifications.get(statusSub)!.every((n) => n.result.value.Failed === undefined)).toBe(true);

    // The HTTP API agrees: accumulated, with the same report and the same stored value.
    const http = await untilProgress(
      'the package to be accumulated',
      async () => {
        const r = await api(base, tokens.alice, 'GET', `/jam/packages/${hex(pkg.hash)}`);
        return r.json.status === 'accumulated' ? r.json : undefined;
      },
      { progress: () => server.progress(), stallMs: 120_000 },
    );
    expect(hex(unb64(ready.result.value.Ready.report_hash))).toBe(http.report_hash);
    expect(ready.result.value.Ready.core).toBe(0);
    const stored = await api(base, tokens.alice, 'GET', `/jam/services/${serviceId}/storage/${hex(key)}`);
    expect(hex(unb64(changed.result.value))).toBe(stored.json.value);

    const now = await alice.call('bestBlock');
    expect(await alice.call('serviceValue', now.header_hash, serviceId, b64(key))).toBe(changed.result.value);
    const status = await alice.call('workPackageStatus', now.header_hash, b64(pkg.hash), b64(new Uint8Array(32)));
    expect(status).toEqual(ready.result.value);
    const report = unb64(await alice.call('workReport', ready.result.value.Ready.report_hash));
    expect(report.length).toBeGreaterThan(100);
    // The report is the GP encoding; its package spec starts with the package hash (GP 0.7.2 C.27).
    expect(hex(report.subarray(0, 32))).toBe(hex(pkg.hash));

    expect(hex(unb64(await alice.call('servicePreimage', now.header_hash, serviceId, b64(codeHash))))).toBe(hex(code));
    const request = await alice.call('serviceRequest', now.header_hash, serviceId, b64(codeHash), code.length);
    expect(request).toHaveLength(1);
    expect(request[0]).toBeLessThanOrEqual(now.slot);
    expect(await alice.call('serviceRequest', now.header_hash, serviceId, b64(codeHash), code.length + 1)).toBeNull();
    expect(await alice.call('servicePreimage', now.header_hash, serviceId, b64(randomBytes(32)))).toBeNull();
    expect(await alice.call('unsubscribeServiceValue', valueSub)).toBe(true);
    expect(await alice.call('unsubscribeWorkPackageStatus', statusSub)).toBe(true);
  });

  it('stores preimages and extrinsics through the same upload path as PUT /jam/preimages', async () => {
    const blob = randomBytes(300);
    expect(await alice.call('submitPreimage', serviceId, b64(blob))).toBeNull();
    const got = await fetch(`${base}/jam/preimages/${hex(await blake(blob))}`, { headers: { Authorization: `Bearer ${tokens.alice}` } });
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(blob)).toBe(true);

    const extrinsic = randomBytes(200);
    const pkg = await wordCountPackage('with an extrinsic', extrinsic);
    expect(await alice.call('submitWorkPackage', 0, b64(pkg.encoded), [b64(extrinsic)])).toBeNull();
    expect((await api(base, tokens.alice, 'GET', `/jam/packages/${hex(pkg.hash)}`)).status).toBe(200);
    expect((await api(base, tokens.alice, 'HEAD', `/jam/preimages/${hex(await blake(extrinsic))}`)).status).toBe(200);

    // An extrinsic the package does not name, a core that does not exist, an invalid package.
    expect((await alice.fail('submitWorkPackage', 0, b64(pkg.encoded), [b64(randomBytes(10))])).code).toBe(-32602);
    expect((await alice.fail('submitWorkPackage', 5, b64(pkg.encoded), [])).code).toBe(-32602);
    const garbage = await alice.fail('submitWorkPackage', 0, b64(new Uint8Array([1, 2, 3])), []);
    expect(garbage.code).toBe(-32602);
    expect(garbage.data.code).toBe('invalid_encoding');
    // A package naming an extrinsic that is nowhere stored: invalid_package, as POST /jam/packages says.
    const missing = await wordCountPackage('missing extrinsic', randomBytes(50));
    const invalid = await alice.fail('submitWorkPackage', 0, b64(missing.encoded), []);
    expect(invalid.code).toBe(0);
    expect(invalid.data.code).toBe('invalid_package');
    expect(invalid.data.details.problems[0].code).toBe('unknown_preimage');
  });

  it("answers another tenant's service, package and report exactly like missing ones", async () => {
    const best = await bob.call('bestBlock');
    expect(await bob.call('listServices', best.header_hash)).not.toContain(serviceId);
    expect(await bob.call('serviceData', best.header_hash, serviceId)).toBeNull();
    expect(await bob.call('serviceValue', best.header_hash, serviceId, b64(Buffer.from('words')))).toBeNull();
    expect(await bob.call('servicePreimage', best.header_hash, serviceId, b64(codeHash))).toBeNull();
    expect(await bob.call('serviceRequest', best.header_hash, serviceId, b64(codeHash), code.length)).toBeNull();

    const pkgs = (await api(base, tokens.alice, 'GET', `/jam/services/${serviceId}/packages`)).json.items as { hash: string; report_hash: string | null }[];
    const theirs = pkgs.find((p) => p.report_hash !== null)!;
    const strip = (e: RpcError) => ({ code: e.code, data: e.data, message: e.message.replace(/0x[0-9a-f]{64}/g, '<hash>') });
    const z = b64(new Uint8Array(32));
    const hidden = await bob.fail('workPackageStatus', best.header_hash, b64(Buffer.from(theirs.hash.slice(2), 'hex')), z);
    const unknown = await bob.fail('workPackageStatus', best.header_hash, b64(randomBytes(32)), z);
    expect(hidden.data.code).toBe('not_found');
    expect(strip(hidden)).toEqual(strip(unknown));
    const hiddenReport = await bob.fail('workReport', b64(Buffer.from(theirs.report_hash!.slice(2), 'hex')));
    expect(hiddenReport.code).toBe(2);
    expect(unb64(hiddenReport.data)).toHaveLength(32);
    const unknownReport = await bob.fail('workReport', b64(randomBytes(32)));
    expect({ ...hiddenReport, data: undefined, message: hiddenReport.message.replace(/0x[0-9a-f]{64}/, '') }).toEqual({
      ...unknownReport,
      data: undefined,
      message: unknownReport.message.replace(/0x[0-9a-f]{64}/, ''),
    });
    const hiddenSub = await bob.fail('subscribeWorkPackageStatus', b64(Buffer.from(theirs.hash.slice(2), 'hex')), z, true);
    expect(hiddenSub.data.code).toBe('not_found');
    const preimageTheirs = await bob.fail('submitPreimage', serviceId, b64(randomBytes(8)));
    const preimageNone = await bob.fail('submitPreimage', 4_000_000_000, b64(randomBytes(8)));
    expect(preimageTheirs.data.code).toBe('not_found');
    expect(strip(preimageTheirs).code).toBe(strip(preimageNone).code);
    // Bob's package naming Alice's service is refused as for an unknown service.
    const pkg = await wordCountPackage('not yours');
    const refused = await bob.fail('submitWorkPackage', 0, b64(pkg.encoded), []);
    expect(refused.data.code).toBe('invalid_package');
    expect(refused.data.details.problems[0].code).toBe('unknown_service');
  });

  it('answers malformed frames with JSON-RPC errors; the connection and the server survive', async () => {
    const c = await JipClient.open(rpcPort, tokens.alice);
    const parse = await c.sendRaw('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(parse.error.code).toBe(-32700);
    expect(parse.error.data.code).toBe('invalid_json');
    expect(parse.id).toBeNull();
    const binary = await c.sendRaw(Buffer.from([0xff, 0x00, 0x13]));
    expect(binary.error.code).toBe(-32700);
    const notRequest = await c.sendRaw('{"jsonrpc": "2.0", "id": 7, "foo": 1}');
    expect(notRequest.error.code).toBe(-32600);
    expect(notRequest.error.data.code).toBe('invalid_request');
    const number = await c.sendRaw('42');
    expect(number.error.code).toBe(-32600);
    const unknown = await c.request('frobnicate', []);
    expect(unknown.error!.code).toBe(-32601);
    expect(unknown.error!.data.code).toBe('not_found');

    const best = await c.call('bestBlock');
    const bad = async (method: string, params: unknown) => {
      const r = await c.request(method, params as unknown[]);
      expect(r.error?.code).toBe(-32602);
      expect(typeof r.error?.data.code).toBe('string');
    };
    await bad('serviceValue', { header_hash: best.header_hash });
    await bad('serviceValue', [best.header_hash, serviceId]);
    await bad('serviceValue', [best.header_hash, -1, '']);
    await bad('serviceValue', [best.header_hash, serviceId, 'not base64!']);
    await bad('serviceValue', [b64(new Uint8Array(31)), serviceId, '']);
    await bad('serviceValue', [best.header_hash, serviceId, 'QQ']); // unpadded
    await bad('workReport', [12]);
    await bad('subscribeServiceValue', [serviceId, '', 'yes']);
    await bad('unsubscribeServiceValue', ['one']);

    // A block this server does not have: JIP-2 error 1 with the header hash as data.
    const old = await headerHashOf(0);
    const unavailable = await c.request('serviceData', [old, serviceId]);
    expect(unavailable.error!.code).toBe(1);
    expect(unavailable.error!.data).toBe(old);

    // A batch: each element answered on its own, a notification (no id) not at all.
    const batch = await c.sendRaw(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'bestBlock', params: [] },
        { jsonrpc: '2.0', method: 'bestBlock', params: [] },
        { jsonrpc: '2.0', id: 'b', method: 'nope' },
        { foo: 1 },
      ]),
    );
    expect(Array.isArray(batch)).toBe(true);
    expect(batch.find((r: any) => r.id === 'a').result.header_hash).toBeDefined();
    expect(batch.find((r: any) => r.id === 'b').error.code).toBe(-32601);
    expect(batch.filter((r: any) => r.error?.code === -32600)).toHaveLength(1);
    expect(batch).toHaveLength(3);

    // Still usable, and the server still healthy.
    expect((await c.call('bestBlock')).header_hash).toBeDefined();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // A message over rpc_max_message_bytes closes that connection (1009); others and new ones work.
    c.ws.send('x'.repeat(70 * 1024));
    await untilProgress('the oversized message to close the connection', async () => c.closed, {
      progress: () => server.progress(),
      stallMs: 60_000,
      intervalMs: 20,
    });
    expect(c.closed!.code).toBe(1009);
    expect((await alice.call('bestBlock')).header_hash).toBeDefined();
    const again = await JipClient.open(rpcPort, tokens.alice);
    expect((await again.call('parameters')).V1).toBeDefined();
    again.close();
  });

  it('bounds subscriptions per connection and connections per principal', async () => {
    const c = await JipClient.open(rpcPort, tokens.bob);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(await c.call('subscribeServiceValue', serviceId, b64(Buffer.from([i])), true));
    expect(new Set(ids).size).toBe(4);
    const over = await c.fail('subscribeServiceValue', serviceId, '', true);
    expect(over.code).toBe(0);
    expect(over.data.code).toBe('rate_limited');
    expect(await c.call('unsubscribeServiceValue', ids[0])).toBe(true);
    expect(typeof (await c.call('subscribeBestBlock'))).toBe('number');

    // bob holds `bob` and `c`; a third is allowed, a fourth refused with 429.
    const third = await JipClient.open(rpcPort, tokens.bob);
    const fourth = await JipClient.refused(rpcPort, { Authorization: `Bearer ${tokens.bob}` });
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.code).toBe('rate_limited');
    third.close();
    c.close();
    await untilProgress(
      'a freed connection slot',
      async () => {
        try {
          const d = await JipClient.open(rpcPort, tokens.bob);
          d.close();
          return true;
        } catch {
          return undefined;
        }
      },
      { progress: () => server.progress(), stallMs: 60_000 },
    );
  });
});
