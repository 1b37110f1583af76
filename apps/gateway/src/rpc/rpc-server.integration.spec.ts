/**
 * The JIP-2 listener's own limits, in process: a real `ws` server with the gateway's real bearer
 * guard and rate limiter (in memory, as embedded), driven by a `ws` client with hand-built frames.
 * Only calls that need no database are made (`parameters`, `bestBlock`, `subscribeBestBlock`), so
 * the gateway's repositories are left out of the dependencies.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { initHashing } from '@jam/domain';
import { createInProcessStatusEventBus, type StatusEventBus } from '@jam/queue';
import { JamMetrics, createLogger } from '@jam/telemetry';
import type { GatewayDeps } from '../gateway.deps';
import { AccessPolicy } from '../access.policy';
import { BearerTokenGuard } from '../bearer-token.guard';
import { ClientAddressPolicy } from '../client-address';
import type { PreimageUploadService } from '../preimage-upload.service';
import type { PackageSubmissionService } from '../package-submission.service';
import { RateLimitGate } from '../rate-limit';
import { Jip2Methods } from './jip2-methods';
import { startRpcServer, type RunningRpcServer } from './rpc-server';

const TOKEN = 'rpc-spec-token';

function open(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, method: string, params: unknown[] = []): Promise<any> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if (msg.id !== id) return;
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
}

describe('JIP-2 RPC server limits', () => {
  let events: StatusEventBus;
  let rateLimit: RateLimitGate;
  let rpc: RunningRpcServer;
  const metrics = new JamMetrics();

  async function start(perMinute: number, idleTimeoutMs: number): Promise<RunningRpcServer> {
    await initHashing();
    events = createInProcessStatusEventBus();
    const logger = createLogger({ level: 'silent' });
    const deps = {
      attesterCount: 3,
      authRequired: true,
      authzEnabled: true,
      tokenDigests: new Map([['alice', createHash('sha256').update(TOKEN).digest('hex')]]),
      adminTokenDigests: new Map<string, string>(),
      adminIpAllowlist: [],
      trustedProxies: [],
      metrics,
      logger,
      events,
    } as unknown as GatewayDeps;
    rateLimit = RateLimitGate.create(
      { perMinute, adminPerMinute: 10, authFailuresPerMinute: 10 },
      { isKnownDigest: (d) => [...deps.tokenDigests.values()].includes(d), clientAddress: (req) => req.socket.remoteAddress ?? '', metrics, logger },
    );
    return startRpcServer(
      {
        // these limit tests make no storage reads and no submissions: the stores are never reached
        methods: new Jip2Methods(
          deps,
          new AccessPolicy(deps, deps.services, deps.preimages, deps.workPackages),
          {} as PreimageUploadService,
          {} as PackageSubmissionService,
        ),
        guard: new BearerTokenGuard(deps, metrics, deps.auditLog, logger),
        rateLimit,
        addresses: new ClientAddressPolicy([], []),
        events,
        requestLimits: { maxUrlBytes: 8192, maxHeaderBytes: 16384, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, bodyIdleTimeoutMs: 10_000 },
        metrics,
        logger,
      },
      { host: '127.0.0.1', port: 0, maxMessageBytes: 65_536, idleTimeoutMs, maxConnectionsPerPrincipal: 4, maxSubscriptionsPerConnection: 4 },
    );
  }

  afterEach(async () => {
    await rpc?.close();
    await rateLimit?.close();
    await events?.close();
  });

  it('charges the upgrade and every call to the token budget of rate_limit_per_minute', async () => {
    rpc = await start(4, 60_000);
    const ws = await open(rpc.port); // 1 of 4
    for (let id = 1; id <= 3; id++) expect((await call(ws, id, 'parameters')).result.V1.core_count).toBe(1); // 2..4 of 4
    const limited = await call(ws, 4, 'parameters');
    expect(limited.error.code).toBe(0);
    expect(limited.error.data.code).toBe('rate_limited');
    expect(limited.error.data.details).toMatchObject({ scope: 'token', limit_per_minute: 4 });
    expect(limited.error.data.details.retry_after_seconds).toBeGreaterThan(0);
    // The same budget refuses a new connection of that token with 429.
    const refused = await new Promise<number>((resolve) => {
      const other = new WebSocket(`ws://127.0.0.1:${rpc.port}/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      other.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      other.once('error', () => undefined);
    });
    expect(refused).toBe(429);
    ws.close();
  });

  it('closes a connection idle for rpc_idle_timeout_ms with 1001', async () => {
    rpc = await start(100, 1000);
    const ws = await open(rpc.port);
    expect((await call(ws, 1, 'bestBlock')).result.slot).toBeGreaterThan(0);
    const closed = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect(closed).toBe(1001);
  });

  it('keeps a connection with an open subscription past the idle timeout and ends it with unsubscribeBestBlock', async () => {
    rpc = await start(100, 1000);
    const ws = await open(rpc.port);
    const sub = (await call(ws, 1, 'subscribeBestBlock')).result as number;
    // Notifications of two consecutive slots arrive (one slot is 6 s, far past the 1 s idle timeout).
    const slots: number[] = [];
    await new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.method === 'subscribeBestBlock' && msg.params.subscription === sub) slots.push(msg.params.result.slot);
        if (slots.length === 2) resolve();
      });
    });
    expect(slots[1]).toBeGreaterThan(slots[0]!);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect((await call(ws, 2, 'unsubscribeBestBlock', [sub])).result).toBe(true);
    ws.close();
  }, 60_000);
});
