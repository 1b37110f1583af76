import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import IORedis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { JamMetrics, Logger } from '@jam/telemetry';
import { RATE_LIMIT_EXEMPT_PATHS } from '@jam/http-contract';
import { bearerTokenOf, shortTokenHash, tokenSha256 } from './log-token-hash';
import { hasBody, sendJsonError } from './request-limits';

/** Rate-limit settings of the gateway (docs/architecture.md section 9), from `@jam/config`. */
export interface RateLimitOptions {
  /** `rate_limit_per_minute`: per token; per client IP for requests without a valid token. */
  perMinute: number;
  /** `admin_rate_limit_per_minute`: `/admin/*`, per known token hash, else per client IP. */
  adminPerMinute: number;
  /** `auth_failure_limit_per_minute`: 401 answers per client IP. */
  authFailuresPerMinute: number;
  /**
   * Shared store: every gateway replica with the same Redis and prefix shares one budget.
   * Undefined = in-process memory, for embedded mode only (one process).
   * WARNING: `keyPrefix` is part of every budget's Redis key; replicas with different prefixes
   * do not share budgets.
   */
  redis?: { url: string; keyPrefix: string };
}

/** Which budget a request was charged to; the `scope` label of `jam_rate_limited_total`. */
export type RateLimitScope = 'token' | 'ip' | 'admin' | 'auth_failure';

/**
 * Paths never limited: probes and scraping must keep working under a flood (keep them off public
 * ingress). The HTTP contract marks them (`rateLimitExempt`: /healthz, /readyz, /metrics).
 */
export { RATE_LIMIT_EXEMPT_PATHS };

const WINDOW_SECONDS = 60;

/** A rate-limit decision: exempt, allowed (budget left) or limited (seconds until the window resets). */
export type RateLimitDecision =
  | { kind: 'exempt' }
  | { kind: 'allowed'; scope: RateLimitScope; limit: number; remaining: number }
  | { kind: 'limited'; scope: RateLimitScope; limit: number; retryAfterSeconds: number };

/** Decided requests (by the `checkContinue` hook before the 100 Continue, or the middleware). */
const decided = new WeakMap<IncomingMessage, RateLimitDecision>();

/**
 * Fixed one-minute windows per key (rate-limiter-flexible: one atomic INCR + PEXPIRE script per
 * request on Redis, so concurrent requests on any number of replicas never overshoot the budget).
 * Keys never contain a token: a known token is keyed by its short hash (12 hex of sha256), other
 * traffic by client IP (the peer address, or the X-Forwarded-For client behind `trusted_proxies`).
 *
 * Order per request, before authentication and before any body byte is read:
 *  1. exempt paths pass;
 *  2. a request without a valid `/jam` token from an IP that already used up
 *     `auth_failure_limit_per_minute` 401s this minute gets 429 (scope `auth_failure`): guessing
 *     tokens is throttled even though every guess is a different key;
 *  3. one point from the request's budget: `admin` for `/admin/*`, `token` for a known token,
 *     `ip` otherwise. Over it: 429 `rate_limited` with `Retry-After` (seconds).
 * After the response, a 401 costs the client IP one auth-failure point.
 *
 * If Redis fails, each replica falls back to an in-memory limiter with the same limits (the
 * library's insurance limiter): limits then hold per replica instead of across replicas.
 */
export class RateLimitGate {
  private constructor(
    private readonly opts: RateLimitOptions,
    private readonly limiters: Record<RateLimitScope, RateLimiterAbstract>,
    private readonly isKnownDigest: (sha256Hex: string) => boolean,
    private readonly clientAddress: (req: IncomingMessage) => string,
    private readonly metrics: JamMetrics,
    private readonly logger: Logger,
    private readonly redis: IORedis | undefined,
  ) {}

  /** Builds the limiters; opens its own Redis connection when `opts.redis` is set. */
  /**
   * @param ctx.isKnownDigest whether a sha256 hex digest is a configured tenant or admin token
   * @param ctx.clientAddress the client IP (the gateway's trusted-proxy policy)
   */
  static create(
    opts: RateLimitOptions,
    ctx: { isKnownDigest: (sha256Hex: string) => boolean; clientAddress: (req: IncomingMessage) => string; metrics: JamMetrics; logger: Logger },
  ): RateLimitGate {
    const points: Record<RateLimitScope, number> = {
      token: opts.perMinute,
      ip: opts.perMinute,
      admin: opts.adminPerMinute,
      auth_failure: opts.authFailuresPerMinute,
    };
    const memory = (scope: RateLimitScope): RateLimiterAbstract => new RateLimiterMemory({ keyPrefix: scope, points: points[scope], duration: WINDOW_SECONDS });
    let redis: IORedis | undefined;
    let make: (scope: RateLimitScope) => RateLimiterAbstract = memory;
    if (opts.redis) {
      // Fail fast (no offline queue, one retry): a request must not wait on a reconnecting Redis;
      // the insurance limiter answers instead.
      const client = new IORedis(opts.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      let lastWarn = 0;
      client.on('error', (err: Error) => {
        if (Date.now() - lastWarn > 10_000) {
          lastWarn = Date.now();
          ctx.logger.warn({ err: { message: err.message } }, 'rate limiter: Redis error; limits hold per replica until it is back');
        }
      });
      redis = client;
      const prefix = opts.redis.keyPrefix;
      make = (scope) =>
        new RateLimiterRedis({
          storeClient: client,
          keyPrefix: `${prefix}:${scope}`,
          points: points[scope],
          duration: WINDOW_SECONDS,
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory(scope),
        });
    }
    const limiters = { token: make('token'), ip: make('ip'), admin: make('admin'), auth_failure: make('auth_failure') };
    return new RateLimitGate(opts, limiters, ctx.isKnownDigest, ctx.clientAddress, ctx.metrics, ctx.logger, redis);
  }

  /** Decides a request once; later calls for the same request return the first decision. */
  async decide(req: IncomingMessage): Promise<RateLimitDecision> {
    const earlier = decided.get(req);
    if (earlier) return earlier;
    const d = await this.decideOnce(req);
    decided.set(req, d);
    return d;
  }

  private async decideOnce(req: IncomingMessage): Promise<RateLimitDecision> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (RATE_LIMIT_EXEMPT_PATHS.has(path)) return { kind: 'exempt' };
    const token = bearerTokenOf(req);
    return this.decideFor(path, this.ip(req), token === undefined ? undefined : tokenSha256(token));
  }

  /**
   * One JIP-2 RPC call (docs/jip2.md): one point from the same budget an HTTP request of the
   * connection's token would use (`rate_limit_per_minute`, shared with /jam across replicas), so
   * RPC calls and HTTP requests count together. A limited call is counted in
   * `jam_rate_limited_total` here; the caller answers it.
   * @param ip the connection's client address; @param digest sha256 hex of its bearer token, if any
   */
  async chargeRpcCall(ip: string, digest: string | undefined): Promise<RateLimitDecision> {
    const d = await this.decideFor('/rpc', ip.startsWith('::ffff:') ? ip.slice(7) : ip, digest);
    if (d.kind === 'limited') this.metrics.rateLimited.inc({ scope: d.scope });
    return d;
  }

  /** A 401 (or refused RPC upgrade) costs the client IP one auth-failure point. */
  countAuthFailure(req: IncomingMessage): void {
    this.limiters.auth_failure
      .penalty(`ip:${this.ip(req)}`, 1)
      .catch((err: unknown) => this.logger.warn({ err }, 'rate limiter: could not count an auth failure'));
  }

  private async decideFor(path: string, ip: string, digest: string | undefined): Promise<RateLimitDecision> {
    const known = digest !== undefined && this.isKnownDigest(digest);
    if (!known) {
      const failures = await this.limiters.auth_failure.get(`ip:${ip}`).catch(() => null);
      if (failures && failures.consumedPoints >= this.opts.authFailuresPerMinute) {
        return { kind: 'limited', scope: 'auth_failure', limit: this.opts.authFailuresPerMinute, retryAfterSeconds: retryAfter(failures.msBeforeNext) };
      }
    }
    const admin = path === '/admin' || path.startsWith('/admin/');
    const scope: RateLimitScope = admin ? 'admin' : known ? 'token' : 'ip';
    // Unknown tokens are keyed by IP even on /admin: a flood of made-up tokens (each answered and
    // audited as an admin auth failure) must share one budget, not get one each.
    const key = digest !== undefined && known ? `t:${shortTokenHash(digest)}` : `ip:${ip}`;
    const limit = scope === 'admin' ? this.opts.adminPerMinute : this.opts.perMinute;
    try {
      const r = await this.limiters[scope].consume(key, 1);
      return { kind: 'allowed', scope, limit, remaining: r.remainingPoints };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { kind: 'limited', scope, limit, retryAfterSeconds: retryAfter(err.msBeforeNext) };
      // Only reachable if the insurance limiter itself failed: let the request through, loudly.
      this.logger.error({ err }, 'rate limiter failed; request not limited');
      return { kind: 'allowed', scope, limit, remaining: limit };
    }
  }

  /**
   * Applies the decision on a raw response: 429 and true when limited (the body is not read and
   * the connection is closed if one was announced), else sets the `X-RateLimit-*` headers.
   */
  async admit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const d = await this.decide(req);
    if (d.kind === 'limited') {
      this.metrics.rateLimited.inc({ scope: d.scope });
      sendJsonError(res, 429, 'rate_limited', `rate limit of ${d.limit} requests per minute (${d.scope}) exceeded; retry after ${d.retryAfterSeconds} s`, {
        details: { scope: d.scope, limit_per_minute: d.limit, retry_after_seconds: d.retryAfterSeconds },
        headers: { 'Retry-After': String(d.retryAfterSeconds), 'X-RateLimit-Limit': String(d.limit), 'X-RateLimit-Remaining': '0' },
        close: hasBody(req),
      });
      return false;
    }
    if (d.kind === 'allowed') this.logger.debug({ scope: d.scope, limit: d.limit, remaining: d.remaining }, 'rate limit charged');
    if (d.kind === 'allowed' && !res.headersSent) {
      res.setHeader('X-RateLimit-Limit', String(d.limit));
      res.setHeader('X-RateLimit-Remaining', String(d.remaining));
    }
    return true;
  }

  /** Express middleware: `admit`, and a 401 answer costs the client IP one auth-failure point. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      // Resolved now: by the time the response is done Node may have detached the socket.
      const ip = this.ip(req);
      res.once('finish', () => {
        if (res.statusCode !== 401) return;
        this.limiters.auth_failure.penalty(`ip:${ip}`, 1).catch((err: unknown) => this.logger.warn({ err }, 'rate limiter: could not count an auth failure'));
      });
      this.admit(req, res).then(
        (ok) => (ok ? next() : undefined),
        (err: unknown) => next(err),
      );
    };
  }

  private ip(req: IncomingMessage): string {
    const ip = this.clientAddress(req);
    return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  }

  /** Closes the Redis connection, if any. */
  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

function retryAfter(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
