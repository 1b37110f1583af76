import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { JSONRPCServer, createJSONRPCErrorResponse, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { DomainError } from '@jam/domain';
import type { StatusEventBus } from '@jam/queue';
import type { JamMetrics, Logger } from '@jam/telemetry';
import type { PackageStatusEventV1 } from '@jam/queue-contracts';
import type { BearerTokenGuard, Principal } from '../bearer-token.guard';
import type { RateLimitGate } from '../rate-limit';
import type { ClientAddressPolicy } from '../client-address';
import { queryTokenParam } from '../bearer-authenticator';
import { statusOf } from '../error-status';
import { errorJson, httpServerOptions, type RequestLimits } from '../request-limits';
import { blockDescriptor, slotStartMs } from './jip2-chain';
import { RPC_ERROR, invalidParam, toRpcError } from './jip2-errors';
import { JIP2_METHODS, JIP2_SUBSCRIPTIONS, type Jip2Methods, type Jip2Method, type Jip2Subscription, type WatchSpec } from './jip2-methods';
import { positional } from './jip2-params';

/** Limits of the JIP-2 listener (`rpc_*` settings, docs/jip2.md "Limits"). */
export interface RpcServerOptions {
  host: string;
  /** 0 = any free port (tests); the launcher never passes 0 (0 means no listener there). */
  port: number;
  /** bytes of one WebSocket message (`rpc_max_message_bytes`) */
  maxMessageBytes: number;
  /** ms without a call and without a subscription (`rpc_idle_timeout_ms`) */
  idleTimeoutMs: number;
  maxConnectionsPerPrincipal: number;
  maxSubscriptionsPerConnection: number;
}

/** What the RPC server uses of the gateway: its authentication, rate limits, address policy and request caps. */
export interface RpcServerDeps {
  methods: Jip2Methods;
  guard: BearerTokenGuard;
  rateLimit: RateLimitGate;
  addresses: ClientAddressPolicy;
  events: StatusEventBus;
  requestLimits: RequestLimits;
  metrics: JamMetrics;
  logger: Logger;
}

/** A started JIP-2 listener. */
export interface RunningRpcServer {
  /** The port actually bound. */
  port: number;
  close(): Promise<void>;
}

/** Calls one connection may have running at once; more are answered with error 0 `rate_limited` (scope `rpc_in_flight`). */
export const MAX_CALLS_IN_FLIGHT_PER_CONNECTION = 16;

/** Bytes queued for a slow client before the server closes its connection (1013) rather than buffer more. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** ms a closing connection is given at shutdown to answer the close frame before it is cut. */
const SHUTDOWN_GRACE_MS = 1_000;

/** Ping interval, ms: a connection that has not answered the previous ping is terminated. */
const PING_INTERVAL_MS = 30_000;

/** Value and status subscriptions are re-read every this many slots even without a notification (a lost pub/sub event costs latency only). */
const RECHECK_EVERY_SLOTS = 5;

/** `data.code` of the framing errors the library answers without data. */
const FRAMING_CODES: Record<number, string> = { [RPC_ERROR.parseError]: 'invalid_json', [RPC_ERROR.invalidRequest]: 'invalid_request' };

/** Adds `data.code` to the library's parse and invalid-request errors, so every error carries our stable code. */
function withDataCode(r: JSONRPCResponse): JSONRPCResponse {
  if (!('error' in r) || r.error === undefined || r.error.data !== undefined) return r;
  const code = FRAMING_CODES[r.error.code];
  return code === undefined ? r : { ...r, error: { ...r.error, data: { code } } };
}

/** One subscription of a connection. */
interface Subscription {
  id: number;
  method: Jip2Subscription;
  spec: WatchSpec;
  /** JSON of the last value sent; undefined before the first. */
  last: string | undefined;
  running: boolean;
  again: boolean;
  started: boolean;
}

/** Per-call context handed to the JSON-RPC framing. */
interface CallContext {
  connection: Connection;
  /** Subscriptions created by this message, started once its response is sent. */
  created: Subscription[];
}

/**
 * The JIP-2 JSON-RPC 2.0 server over WebSocket (docs/jip2.md). JSON-RPC framing (single and batch
 * requests, notifications, parse and invalid-request errors) is the `json-rpc-2.0` library's;
 * WebSocket is `ws`. The upgrade request is authenticated exactly as a `/jam` request (bearer
 * token in `Authorization`, never in the query string; admin tokens only from the allowlist) and
 * charged to the same rate limit; then every call costs one more request of that budget.
 */
export async function startRpcServer(deps: RpcServerDeps, opts: RpcServerOptions): Promise<RunningRpcServer> {
  const server = http.createServer(httpServerOptions(deps.requestLimits), (_req, res) => {
    // A plain HTTP request: this port speaks only WebSocket.
    const body = errorJson('upgrade_required', 'this port serves JIP-2 JSON-RPC over WebSocket only (docs/jip2.md)');
    res.writeHead(426, { 'Content-Type': 'application/json', Upgrade: 'websocket', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes, perMessageDeflate: false });
  const rpc = createJsonRpc(deps);
  const connections = new Set<Connection>();
  const perPrincipal = new Map<string, number>();

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    admit(req).then(
      (principal) => {
        const open = perPrincipal.get(principal.principal) ?? 0;
        if (open >= opts.maxConnectionsPerPrincipal) {
          deps.metrics.rateLimited.inc({ scope: 'rpc_connections' });
          refuse(socket, 429, 'rate_limited', `at most ${opts.maxConnectionsPerPrincipal} RPC connections may be open at once; close one first`, {
            'Retry-After': '5',
          });
          return;
        }
        // The callback runs synchronously within handleUpgrade (or never, for a socket already gone),
        // so the count taken here cannot be passed by a concurrent upgrade nor leak.
        wss.handleUpgrade(req, socket, head, (ws) => {
          perPrincipal.set(principal.principal, (perPrincipal.get(principal.principal) ?? 0) + 1);
          const conn = new Connection(ws, principal, deps.addresses.clientAddress(req), rpc, deps, opts);
          connections.add(conn);
          deps.logger.info({ principal: principal.principal, tokenHash: principal.tokenHash }, 'rpc connection opened');
          ws.once('close', () => {
            connections.delete(conn);
            const left = (perPrincipal.get(principal.principal) ?? 1) - 1;
            if (left > 0) perPrincipal.set(principal.principal, left);
            else perPrincipal.delete(principal.principal);
            conn.dispose();
            deps.logger.info({ principal: principal.principal, tokenHash: principal.tokenHash }, 'rpc connection closed');
          });
        });
      },
      (err: unknown) => {
        if (err instanceof DomainError) {
          const headers: Record<string, string> = {};
          if (err.code === 'unauthorized') {
            deps.rateLimit.countAuthFailure(req);
            headers['WWW-Authenticate'] = 'Bearer realm="jam"';
          }
          if (err.code === 'rate_limited') headers['Retry-After'] = String(err.details?.['retry_after_seconds'] ?? 60);
          refuse(socket, statusOf(err.code), err.code, err.message, headers, err.details);
          return;
        }
        const { error, unexpected } = toRpcError(err);
        if (unexpected) deps.logger.error({ err }, 'rpc upgrade failed');
        const code = (error.data as { code?: string } | undefined)?.code ?? 'internal';
        refuse(socket, code === 'dependency_unavailable' ? 503 : 500, code, error.message, code === 'dependency_unavailable' ? { 'Retry-After': '5' } : {});
      },
    );
  });

  /** The upgrade request's principal: token checks, then the rate limit (before the 401 so guessing is throttled too). */
  async function admit(req: http.IncomingMessage): Promise<Principal> {
    if (queryTokenParam(req.url ?? '/') !== undefined) {
      deps.metrics.authFailures.inc({ reason: 'token_in_query' });
      throw new DomainError('invalid_request', 'tokens are not accepted in the query string; send Authorization: Bearer <token>');
    }
    const decision = await deps.rateLimit.decide(req);
    if (decision.kind === 'limited') {
      deps.metrics.rateLimited.inc({ scope: decision.scope });
      throw new DomainError('rate_limited', `rate limit of ${decision.limit} requests per minute (${decision.scope}) exceeded`, {
        scope: decision.scope,
        retry_after_seconds: decision.retryAfterSeconds,
      });
    }
    return deps.guard.authenticate(req, `RPC ${req.url ?? '/'}`, () => undefined);
  }

  // Status events prompt re-reads of the subscriptions they may change; the rows stay the truth.
  const offEvents = deps.events.subscribe((e: PackageStatusEventV1) => {
    for (const c of connections) c.onStatusEvent(e);
  });
  // One timer for every connection: block subscriptions each slot, value/status re-reads every few slots.
  let tickTimer: NodeJS.Timeout | undefined;
  const scheduleTick = () => {
    const next = deps.methods.currentSlot() + 1;
    tickTimer = setTimeout(
      () => {
        for (const c of connections) c.onSlot(next);
        scheduleTick();
      },
      Math.max(10, slotStartMs(next) - Date.now()),
    );
    tickTimer.unref();
  };
  scheduleTick();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    close: async () => {
      offEvents();
      clearTimeout(tickTimer);
      for (const c of connections) c.close(1001, 'server shutting down');
      // A client that does not answer the close frame is cut after a short grace.
      if (connections.size > 0) await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers a refused upgrade with an HTTP status and the API's JSON error body, then closes the socket. */
function refuse(socket: Duplex, status: number, code: string, message: string, headers: Record<string, string> = {}, details?: Record<string, unknown>): void {
  const body = errorJson(code, message, details);
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** The JSON-RPC framing: methods, subscribe/unsubscribe forms, per-call rate limit and in-flight cap, error mapping. */
function createJsonRpc(deps: RpcServerDeps): JSONRPCServer<CallContext> {
  const rpc = new JSONRPCServer<CallContext>({ errorListener: () => undefined });
  for (const name of JIP2_METHODS) {
    rpc.addMethod(name, (params: unknown, ctx: CallContext) => deps.methods.call(name as Jip2Method, ctx.connection.principal, params));
  }
  for (const name of JIP2_SUBSCRIPTIONS) {
    rpc.addMethod(name, async (params: unknown, ctx: CallContext) => {
      const spec = await deps.methods.watch(name, ctx.connection.principal, params);
      const sub = ctx.connection.addSubscription(name, spec);
      ctx.created.push(sub);
      return sub.id;
    });
    const unsubscribe = `un${name}`;
    rpc.addMethod(unsubscribe, (params: unknown, ctx: CallContext) => {
      const [id] = positional(params, ['subscription']);
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw invalidParam('subscription', 'must be a subscription ID (Number)');
      return ctx.connection.removeSubscription(name, id);
    });
  }
  rpc.mapErrorToJSONRPCErrorResponse = (id, err: unknown) => {
    const { error, unexpected } = toRpcError(err);
    if (unexpected) deps.logger.error({ err }, 'rpc method failed');
    return createJSONRPCErrorResponse(id, error.code, error.message, error.data);
  };
  rpc.handleMethodNotFound = async (request: JSONRPCRequest) =>
    request.id === undefined
      ? null
      : createJSONRPCErrorResponse(request.id, RPC_ERROR.methodNotFound, `method ${String(request.method).slice(0, 100)} is not supported (docs/jip2.md)`, {
          code: 'not_found',
        });
  rpc.applyMiddleware(async (next, request, ctx) => {
    const conn = ctx.connection;
    const decision = await deps.rateLimit.chargeRpcCall(conn.clientAddress, conn.principal.tokenDigest ?? undefined);
    if (decision.kind === 'limited') {
      return request.id === undefined
        ? null
        : createJSONRPCErrorResponse(
            request.id,
            RPC_ERROR.other,
            `rate limit of ${decision.limit} requests per minute (${decision.scope}) exceeded; retry after ${decision.retryAfterSeconds} s`,
            {
              code: 'rate_limited',
              details: { scope: decision.scope, limit_per_minute: decision.limit, retry_after_seconds: decision.retryAfterSeconds },
            },
          );
    }
    if (conn.inFlight >= MAX_CALLS_IN_FLIGHT_PER_CONNECTION) {
      deps.metrics.rateLimited.inc({ scope: 'rpc_in_flight' });
      return request.id === undefined
        ? null
        : createJSONRPCErrorResponse(request.id, RPC_ERROR.other, `at most ${MAX_CALLS_IN_FLIGHT_PER_CONNECTION} calls may run at once on one connection`, {
            code: 'rate_limited',
            details: { scope: 'rpc_in_flight', limit: MAX_CALLS_IN_FLIGHT_PER_CONNECTION },
          });
    }
    conn.inFlight++;
    try {
      return await next(request, ctx);
    } finally {
      conn.inFlight--;
    }
  });
  return rpc;
}

/** One WebSocket connection: its principal, calls in flight, subscriptions, idle timer and liveness pings. */
class Connection {
  inFlight = 0;
  private readonly subs = new Map<number, Subscription>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private alive = true;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly principal: Principal,
    readonly clientAddress: string,
    private readonly rpc: JSONRPCServer<CallContext>,
    private readonly deps: RpcServerDeps,
    private readonly opts: RpcServerOptions,
  ) {
    ws.on('message', (data: RawData) => this.onMessage(data));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err: Error) => {
      // ws closes the connection itself (1009 for an oversized message, 1002 for a protocol error).
      deps.logger.info({ reason: err.message, tokenHash: principal.tokenHash }, 'rpc connection error');
    });
    this.pingTimer = setInterval(() => {
      if (!this.alive) {
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, PING_INTERVAL_MS);
    this.pingTimer.unref();
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.subs.size > 0 || this.inFlight > 0) this.touch();
      else this.close(1001, 'idle timeout');
    }, this.opts.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private onMessage(data: RawData): void {
    this.touch();
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    const ctx: CallContext = { connection: this, created: [] };
    this.rpc.receiveJSON(text, ctx).then(
      (response: JSONRPCResponse | JSONRPCResponse[] | null) => {
        if (response !== null && !(Array.isArray(response) && response.length === 0))
          this.send(Array.isArray(response) ? response.map(withDataCode) : withDataCode(response));
        for (const sub of ctx.created) this.start(sub);
      },
      (err: unknown) => {
        this.deps.logger.error({ err }, 'rpc message handling failed');
        this.send(createJSONRPCErrorResponse(null, RPC_ERROR.internalError, 'internal error', { code: 'internal' }));
      },
    );
  }

  /** Registers a subscription (not started until its response is sent). @throws DomainError('rate_limited') past the per-connection cap */
  addSubscription(method: Jip2Subscription, spec: WatchSpec): Subscription {
    if (this.subs.size >= this.opts.maxSubscriptionsPerConnection) {
      this.deps.metrics.rateLimited.inc({ scope: 'rpc_subscriptions' });
      throw new DomainError(
        'rate_limited',
        `at most ${this.opts.maxSubscriptionsPerConnection} subscriptions may be open on one connection; unsubscribe one first`,
        {
          scope: 'rpc_subscriptions',
          limit: this.opts.maxSubscriptionsPerConnection,
        },
      );
    }
    const sub: Subscription = { id: this.nextId++, method, spec, last: undefined, running: false, again: false, started: false };
    this.subs.set(sub.id, sub);
    return sub;
  }

  /** Ends subscription `id` made by `method`. @returns whether there was one */
  removeSubscription(method: Jip2Subscription, id: number): boolean {
    const sub = this.subs.get(id);
    if (!sub || sub.method !== method) return false;
    this.subs.delete(id);
    return true;
  }

  private start(sub: Subscription): void {
    if (!this.subs.has(sub.id)) return;
    sub.started = true;
    this.refresh(sub);
  }

  onStatusEvent(e: PackageStatusEventV1): void {
    for (const sub of this.subs.values()) {
      if ((sub.spec.trigger === 'package' && sub.spec.packageHash === e.package_hash) || (sub.spec.trigger === 'service' && e.status === 'accumulated'))
        this.refresh(sub);
    }
  }

  onSlot(slot: number): void {
    for (const sub of this.subs.values()) {
      if (sub.spec.trigger === 'block' || slot % RECHECK_EVERY_SLOTS === 0) this.refresh(sub);
    }
  }

  /** Re-reads a subscription's value (one read at a time; a trigger during a read runs one more) and sends it if it changed. */
  private refresh(sub: Subscription): void {
    if (!sub.started || this.closed) return;
    if (sub.running) {
      sub.again = true;
      return;
    }
    sub.running = true;
    void (async () => {
      do {
        sub.again = false;
        try {
          const value = await sub.spec.read();
          const json = JSON.stringify(value);
          if (json !== sub.last && this.subs.has(sub.id)) {
            sub.last = json;
            const result = sub.spec.chainUpdate ? { ...blockDescriptor(this.deps.methods.currentSlot()), value } : value;
            this.send({ jsonrpc: '2.0', method: sub.method, params: { subscription: sub.id, result } });
          }
        } catch (err) {
          const { error, unexpected } = toRpcError(err);
          if (unexpected) this.deps.logger.error({ err }, 'rpc subscription read failed');
          if (this.subs.has(sub.id)) this.send({ jsonrpc: '2.0', method: sub.method, params: { subscription: sub.id, error: error.message } });
        }
      } while (sub.again && this.subs.has(sub.id) && !this.closed);
      sub.running = false;
    })();
  }

  private send(message: unknown): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(1013, 'client reads too slowly');
      return;
    }
    this.ws.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
    this.dispose();
  }

  /** Frees timers and subscriptions (also when the client closed). */
  dispose(): void {
    this.closed = true;
    this.subs.clear();
    clearTimeout(this.idleTimer);
    clearInterval(this.pingTimer);
  }
}
