import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRedisReadinessProbe, openBullMqInspection, type BullMqInspection } from '@jam/queue';
import { ACCUMULATE_QUEUE, ATTESTATION_QUEUE, JANITOR_QUEUE, refineQueueNames } from '@jam/queue-contracts';
import { StartupError, type RoleHost, type RoleModule } from '@jam/runtime';
import { tokenDigest } from './bearer-token.guard';
import { startGateway } from './gateway.app';
import type { GatewayDeps } from './gateway.deps';

/** The registration checks the gateway runs (`@jam/sandbox`'s CodeChecks; the gateway itself never imports the sandbox). */
export interface GatewayCodeChecks {
  /** @throws DomainError('invalid_code') for code that would not run */
  check(codeHash: string, code: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the code-check executors (`startCodeChecks` of `@jam/sandbox`, given by the process entry
 * or the launcher: the gateway's own code never imports the sandbox, docs/architecture.md section 3).
 */
export type StartCodeChecks = (
  options: { size: number; wallClockMs: number; uid?: number; gid?: number },
  warn: (fields: Record<string, unknown>, message: string) => void,
) => Promise<GatewayCodeChecks>;

/**
 * The gateway role: the HTTP API on `JAM_HOST:JAM_PORT` with its tokens, admin tokens, code-check
 * executors, rate limits (on Redis in production), request limits and readiness checks.
 * `prepare` reads and checks the tokens before anything is created: production without any
 * allowed token is refused (StartupError), so a refused boot leaves nothing behind.
 */
export function gatewayRole(startCodeChecks: StartCodeChecks): RoleModule {
  let tokens = new Map<string, string>();
  return {
    role: 'gateway',
    prepare(config) {
      tokens = new Map(Object.entries(config.allowedTokenDigests));
      if (config.allowedTokensFile) {
        for (const [principal, digest] of readTokenFile(config.allowedTokensFile)) tokens.set(principal, digest);
      }
      if (config.authRequired && tokens.size === 0 && config.mode !== 'embedded') {
        throw new StartupError(
          'auth_required is true but no allowed_tokens are configured: set JAM_ALLOWED_TOKENS (principal=sha256hex) or JAM_ALLOWED_TOKENS_FILE, or JAM_AUTH_REQUIRED=false for a closed network',
        );
      }
    },
    async start(host) {
      const { config, logger } = host;
      let devTokenFile: string | undefined;
      if (config.authRequired && tokens.size === 0) {
        // embedded mode only (production was refused in prepare)
        devTokenFile = path.join(config.dataDir, 'dev-token');
        tokens.set('dev', tokenDigest(readOrCreateDevToken(devTokenFile)));
      }
      const adminTokens = new Map(Object.entries(config.adminTokenDigests));
      if (config.adminTokensFile) {
        for (const [principal, digest] of readTokenFile(config.adminTokensFile)) adminTokens.set(principal, digest);
      }
      // Readiness writes to Redis: a Redis that refuses writes (OOM, MISCONF, READONLY) makes this gateway not ready.
      const redisProbe = config.mode === 'production' ? createRedisReadinessProbe(config.redisUrl!, config.queuePrefix) : undefined;
      if (redisProbe) host.onStop(() => redisProbe.close());
      // Registration checks run in executors of their own, never on the gateway's event loop and
      // never queued behind (or ahead of) refine and accumulate jobs (docs/sandbox.md).
      const checks = await startCodeChecks(
        { size: config.codeCheckPoolSize, wallClockMs: config.sandboxWallClockMs, uid: config.sandboxUid, gid: config.sandboxGid },
        (fields, message) => logger.warn(fields, message),
      );
      host.onStop(() => checks.close());
      const tenantDigests = new Set(tokens.values());
      if ([...adminTokens.values()].some((d) => tenantDigests.has(d)))
        throw new Error('an admin token is also an allowed /jam token; admin_tokens must be separate tokens');
      const deps = { ...gatewayDeps(host, { tokens, adminTokens, checks, redisProbe }), ...boardQueues(host) };
      const rpc =
        config.rpcPort === 0
          ? undefined
          : {
              port: config.rpcPort,
              maxMessageBytes: config.rpcMaxMessageBytes,
              idleTimeoutMs: config.rpcIdleTimeoutMs,
              maxConnectionsPerPrincipal: config.rpcMaxConnectionsPerPrincipal,
              maxSubscriptionsPerConnection: config.rpcMaxSubscriptionsPerConnection,
            };
      const gateway = await startGateway(deps, { host: config.host, port: config.port, rpc }).catch((err: NodeJS.ErrnoException & { port?: number }) => {
        if (err.code === 'EADDRINUSE' && config.rpcPort !== 0 && err.port === config.rpcPort && config.rpcPort !== config.port)
          throw new StartupError(`JIP-2 RPC port ${config.rpcPort} on ${config.host} is in use; set JAM_RPC_PORT to a free port, or 0 for no RPC listener`);
        if (err.code === 'EADDRINUSE')
          throw new StartupError(
            `port ${config.port} on ${config.host} is in use; set JAM_PORT to a free port (and JAM_URL=http://127.0.0.1:<port> for the CLI)`,
          );
        throw err;
      });
      host.onStop(() => gateway.close());
      if (gateway.rpcPort !== undefined) logger.info({ rpcPort: gateway.rpcPort }, 'JIP-2 RPC listening');
      return { port: gateway.port, devTokenFile };
    },
  };
}

/** The gateway's dependencies from the shared stores and the config (GatewayDeps documents each). */
function gatewayDeps(
  host: RoleHost,
  parts: { tokens: Map<string, string>; adminTokens: Map<string, string>; checks: GatewayCodeChecks; redisProbe?: { check(): Promise<void> } },
): GatewayDeps {
  const { config } = host;
  return {
    ...host.repos,
    blobs: host.blobs,
    queue: host.queue,
    events: host.events,
    metrics: host.metrics,
    logger: host.logger,
    checkServiceCode: (codeHash, code) => parts.checks.check(codeHash, code),
    codeChecks: {
      maxPerPrincipal: config.maxCodeChecksPerPrincipal,
      maxQueued: config.maxQueuedCodeChecks,
      retryAfterSeconds: Math.max(1, Math.ceil(config.sandboxWallClockMs / 1000)),
    },
    tokenDigests: parts.tokens,
    authRequired: config.authRequired,
    authzEnabled: config.authzEnabled,
    adminTokenDigests: parts.adminTokens,
    adminIpAllowlist: config.adminIpAllowlist,
    trustedProxies: config.trustedProxies,
    attesterCount: config.attesters,
    attestationThreshold: config.attestationThreshold,
    maxPreimageBytes: config.maxPreimageBytes,
    maxPendingPackages: config.maxPendingPackages,
    maxPackageRetries: config.maxPackageRetries,
    maxConcurrentUploads: config.maxConcurrentUploads,
    maxStoredPreimageBytes: config.maxStoredPreimageBytes,
    rateLimit: {
      perMinute: config.rateLimitPerMinute,
      adminPerMinute: config.adminRateLimitPerMinute,
      authFailuresPerMinute: config.authFailureLimitPerMinute,
      // Shared by every gateway replica on this Redis and prefix; in memory when embedded (one process).
      redis: config.mode === 'production' ? { url: config.redisUrl!, keyPrefix: `${config.queuePrefix}:rl` } : undefined,
    },
    requestLimits: {
      maxUrlBytes: config.maxUrlBytes,
      maxHeaderBytes: config.maxHeaderBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
    },
    readiness: {
      database: () => host.pingDatabase(),
      queue: async () => {
        await host.queue.counts(ATTESTATION_QUEUE);
        await parts.redisProbe?.check();
      },
      blob_store: async () => void (await host.blobs.has(`0x${'0'.repeat(64)}`)),
    },
  };
}

/**
 * The operators' queue board (/admin/queues, README "Queue board") reads the BullMQ queues through
 * handles of its own, opened on its first request and closed at shutdown; none in embedded mode.
 */
function boardQueues(host: RoleHost): Pick<GatewayDeps, 'openBoardQueues'> {
  const { config, logger } = host;
  if (config.mode !== 'production') return {};
  let board: BullMqInspection | undefined;
  host.onStop(async () => board?.close());
  return {
    openBoardQueues: () => {
      board ??= openBullMqInspection({
        redisUrl: config.redisUrl!,
        prefix: config.queuePrefix,
        names: [...Array.from({ length: config.attesters }, (_, i) => refineQueueNames(i)).flat(), ATTESTATION_QUEUE, ACCUMULATE_QUEUE, JANITOR_QUEUE],
        onError: (err) => logger.warn({ err }, 'queue board: Redis error'),
      });
      return board.queues;
    },
  };
}

/** Reads `principal token` lines (plain tokens from a secret mount) and hashes them. @throws Error naming the file and line of a bad line */
function readTokenFile(file: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [n, line] of fs.readFileSync(file, 'utf8').split('\n').entries()) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Za-z0-9_.@-]{1,64})\s+(\S{16,512})$/.exec(t);
    if (!m) throw new Error(`${file}:${n + 1}: expected "<principal> <token>" with a token of at least 16 characters`);
    out.push([m[1]!, tokenDigest(m[2]!)]);
  }
  return out;
}

/** The embedded mode's development token: created once (0600), reused on restart. */
function readOrCreateDevToken(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const token = `jam_dev_${randomBytes(24).toString('base64url')}`;
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}
