import { z } from 'zod';
import * as ipaddr from 'ipaddr.js';
import * as path from 'node:path';
import { SETTINGS, type SettingKey } from './config.schema';

/** The roles (apps) one process can run. WARNING: deployment manifests name these. */
export const APP_ROLES = ['gateway', 'refine-worker', 'attestation', 'accumulate-worker', 'janitor'] as const;
export type AppRole = (typeof APP_ROLES)[number];

type Parsed = { [K in SettingKey]: z.output<(typeof SETTINGS)[K]['schema']> };

/** Validated, frozen configuration of one process. Paths are absolute. */
export interface AppConfig {
  readonly port: number;
  /** Port of the JIP-2 JSON-RPC WebSocket listener (gateway role); 0 = none. */
  readonly rpcPort: number;
  /** bytes of one RPC WebSocket message */
  readonly rpcMaxMessageBytes: number;
  /** ms without a call or an open subscription before an RPC connection is closed */
  readonly rpcIdleTimeoutMs: number;
  readonly rpcMaxConnectionsPerPrincipal: number;
  readonly rpcMaxSubscriptionsPerConnection: number;
  /** Port of the worker health/metrics listener; undefined = none. */
  readonly metricsPort?: number;
  readonly host: string;
  readonly dataDir: string;
  /** `embedded` when neither DATABASE_URL nor REDIS_URL is set. */
  readonly mode: 'embedded' | 'production';
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly queuePrefix: string;
  readonly roles: readonly AppRole[];
  readonly authRequired: boolean;
  /** principal -> lowercase sha256 hex of the token, from JAM_ALLOWED_TOKENS. */
  readonly allowedTokenDigests: Readonly<Record<string, string>>;
  readonly allowedTokensFile?: string;
  /** Per-service authorization (owner + delegates) on /jam/*. */
  readonly authzEnabled: boolean;
  /** principal -> lowercase sha256 hex of an admin token, from JAM_ADMIN_TOKENS. */
  readonly adminTokenDigests: Readonly<Record<string, string>>;
  readonly adminTokensFile?: string;
  /** IPs/CIDRs (`addr/prefix`) allowed to use admin tokens. */
  readonly adminIpAllowlist: readonly string[];
  /** IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  readonly attesters: number;
  readonly attestationThreshold: number;
  readonly attesterIndexes: readonly number[];
  readonly keysDir: string;
  readonly blobDir: string;
  /** bytes */
  readonly maxPreimageBytes: number;
  readonly maxPendingPackages: number;
  /** Preimage uploads in flight per principal per gateway process. */
  readonly maxConcurrentUploads: number;
  /** Bytes of stored preimages per principal. */
  readonly maxStoredPreimageBytes: number;
  /** Storage footprint quota per service: key + value bytes of every stored item (bytes). */
  readonly maxServiceStorageBytes: number;
  /** Storage footprint quota per service: stored keys. */
  readonly maxServiceStorageItems: number;
  /** Wall-clock kills of one accumulation (report, service) before it is recorded `timed_out`. */
  readonly maxAccumulateTimeouts: number;
  /** Non-guest sandbox failures (executor crash, engine fault; refine: also wall clock) per accumulation or per (package, attester) in refine. */
  readonly maxSandboxFailures: number;
  /** Retries of one failed package (`max_package_retries`, 0..100; 0 = none). */
  readonly maxPackageRetries: number;
  readonly rateLimitPerMinute: number;
  readonly adminRateLimitPerMinute: number;
  readonly authFailureLimitPerMinute: number;
  /** bytes of the request target (path + query) */
  readonly maxUrlBytes: number;
  /** bytes of request line + headers (Node maxHeaderSize) */
  readonly maxHeaderBytes: number;
  /** ms */
  readonly requestTimeoutMs: number;
  /** ms */
  readonly headersTimeoutMs: number;
  /** ms */
  readonly bodyIdleTimeoutMs: number;
  readonly retentionDays: number;
  /** ms */
  readonly retentionIntervalMs: number;
  /** packages per retention transaction */
  readonly retentionBatchSize: number;
  /** hours */
  readonly preimageGcGraceHours: number;
  /** ms */
  readonly preimageGcIntervalMs: number;
  /** ms */
  readonly blobHygieneIntervalMs: number;
  /** blobs re-hashed per hygiene run */
  readonly blobVerifySample: number;
  /** `fs`, or `s3-offload` (then `s3` is set). */
  readonly blobStore: 'fs' | 's3-offload';
  /** S3 offload settings; undefined unless blobStore is `s3-offload`. Holds secrets: log only via {@link redactConfig}. */
  readonly s3?: S3Config;
  readonly sandboxPoolSize: number;
  /** Executors for short calls only (gas limit <= G_A), on top of sandboxPoolSize. */
  readonly sandboxExpressExecutors: number;
  /** Nice increment of general executors over the worker's own (0..19). */
  readonly sandboxGeneralNice: number;
  /** ms */
  readonly sandboxWallClockMs: number;
  /** OS uid of sandbox executors; undefined = 65534 as root, else this process's uid (docs/sandbox.md). */
  readonly sandboxUid?: number;
  /** OS gid of sandbox executors; undefined = sandboxUid, else as sandboxUid's default. */
  readonly sandboxGid?: number;
  /** Executors per gateway process for registration code checks. */
  readonly codeCheckPoolSize: number;
  /** Registration code checks one principal may have running or queued per gateway process. */
  readonly maxCodeChecksPerPrincipal: number;
  /** Registration code checks running or queued per gateway process, all principals. */
  readonly maxQueuedCodeChecks: number;
  readonly refineConcurrency: number;
  /** Refine jobs in flight per attester express queue (short packages) per process. */
  readonly refineExpressConcurrency: number;
  readonly accumulateConcurrency: number;
  /** ms */
  readonly reconcileIntervalMs: number;
  /** ms */
  readonly reconcileStaleMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** OTLP/HTTP collector base URL; undefined = tracing off. */
  readonly otlpEndpoint?: string;
}

/** S3 offload settings (blob_store = s3-offload). */
export interface S3Config {
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** without leading/trailing `/`; '' = bucket root */
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  /** Static credentials; undefined = the AWS SDK default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** bytes */
  readonly offloadMinBytes: number;
  /** ms */
  readonly timeoutMs: number;
  /** blobs moved per hygiene run */
  readonly migrateBatch: number;
}

/** SHA-256 of the empty string: what `printf %s "$UNSET" | sha256sum` yields; never a real token. */
const EMPTY_TOKEN_DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The end of the embedded-role problem for the launcher, and (ROLE_EMBEDDED_HINT) for a role's own entry point. */
const EMBEDDED_HINT = 'or leave JAM_ROLES unset for one embedded process';
const ROLE_EMBEDDED_HINT = 'or start every role in one embedded process with `npm start` (node dist/apps/standalone/src/main.js)';

/** Thrown at boot for a wrong setting; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses and validates settings from an environment map (defaults to `process.env`; this lib is
 * the only reader of the environment). Relative paths resolve against `cwd`. Returns a deeply
 * frozen `AppConfig`.
 * @throws ConfigError listing every bad variable and why (values of sensitive settings are
 *   shown as `<redacted>`); cross-setting rules are checked for the settings that parsed.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, cwd: string = process.cwd()): AppConfig {
  const problems: string[] = [];
  const parsed = parseSettings(env, problems);
  const ok = (key: SettingKey): boolean => key in parsed;
  const p = parsed as Parsed;

  const problemsBeforeRoles = problems.length;
  const roles = ok('roles') ? parseRoles(p.roles, problems) : [];
  if (ok('attesters') && ok('attestation_threshold') && p.attestation_threshold > p.attesters) {
    problems.push(`JAM_ATTESTATION_THRESHOLD=${p.attestation_threshold} exceeds JAM_ATTESTERS=${p.attesters}`);
  }
  const allowedTokenDigests = tokenDigests('JAM_ALLOWED_TOKENS', ok('allowed_tokens') ? (p.allowed_tokens ?? []) : [], problems);
  const adminTokenDigests = tokenDigests('JAM_ADMIN_TOKENS', ok('admin_tokens') ? (p.admin_tokens ?? []) : [], problems, allowedTokenDigests);
  const adminIpAllowlist = ok('admin_ip_allowlist') ? cidrList(p.admin_ip_allowlist, 'JAM_ADMIN_IP_ALLOWLIST', problems) : [];
  const trustedProxies = ok('trusted_proxies') ? cidrList(p.trusted_proxies ?? [], 'JAM_TRUSTED_PROXIES', problems) : [];
  const attesterIndexes = ok('attesters') && ok('attester_indexes') ? parseAttesterIndexes(p.attester_indexes, p.attesters, problems) : [];
  const embedded = p.database_url === undefined && p.redis_url === undefined;
  const rolesValid = ok('roles') && problems.slice(problemsBeforeRoles).every((m) => !m.startsWith('JAM_ROLES'));
  checkCrossSettings(p, ok, { embedded, roles, rolesValid }, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return buildConfig(p, cwd, { embedded, roles, allowedTokenDigests, adminTokenDigests, adminIpAllowlist, trustedProxies, attesterIndexes });
}

/**
 * The config of a one-role entry point (`apps/<role>/src/main.ts`): {@link loadConfig} with
 * `JAM_ROLES=<role>`. JAM_ROLES may be left unset or name that role (the deployment manifests set it).
 * @throws ConfigError when JAM_ROLES names anything else (the process would not run what it says),
 *   and as {@link loadConfig}
 */
export function loadRoleConfig(env: Readonly<Record<string, string | undefined>>, role: AppRole, cwd: string = process.cwd()): AppConfig {
  const given = env['JAM_ROLES']?.trim();
  if (given !== undefined && given !== '' && given !== role) {
    throw new ConfigError([
      `JAM_ROLES=${given}: this is the ${role} entry point, which runs only ${role}; unset JAM_ROLES, set it to ${role}, or start apps/standalone for other roles`,
    ]);
  }
  try {
    return loadConfig({ ...env, JAM_ROLES: role }, cwd);
  } catch (err) {
    // JAM_ROLES is this entry point's own: the way to run embedded is the launcher, not unsetting it.
    if (err instanceof ConfigError) throw new ConfigError(err.problems.map((m) => m.replace(EMBEDDED_HINT, ROLE_EMBEDDED_HINT)));
    throw err;
  }
}

/** Parses every setting of SETTINGS from `env` (unset or empty: the default); a value that fails its schema is a problem. */
function parseSettings(env: Readonly<Record<string, string | undefined>>, problems: string[]): Partial<Record<SettingKey, unknown>> {
  const parsed: Partial<Record<SettingKey, unknown>> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const def = SETTINGS[key];
    const raw = env[def.env];
    const value = raw === undefined || raw === '' ? ('default' in def ? def.default : undefined) : raw;
    const result = (def.schema as z.ZodTypeAny).safeParse(value);
    if (!result.success) {
      const shown = def.sensitive ? '<redacted>' : JSON.stringify(raw);
      problems.push(`${def.env}=${shown}: ${result.error.issues.map((i) => i.message).join('; ')}`);
    } else {
      parsed[key] = result.data;
    }
  }
  return parsed;
}

/** JAM_ROLES: `all` expands to every role; unknown names and an empty list are problems. */
function parseRoles(given: readonly string[], problems: string[]): AppRole[] {
  const roles: AppRole[] = [];
  for (const r of given) {
    if (r === 'all') roles.push(...APP_ROLES);
    else if ((APP_ROLES as readonly string[]).includes(r)) roles.push(r as AppRole);
    else problems.push(`JAM_ROLES: unknown role "${r}" (expected all or ${APP_ROLES.join(', ')})`);
  }
  if (given.length === 0) problems.push('JAM_ROLES: no role given (expected all or a comma list of roles)');
  return roles;
}

/**
 * `principal=<sha256 hex>` entries of `setting` as principal -> lowercase digest (null prototype:
 * a principal named `__proto__` or `constructor` is data, never an inherited member). Malformed,
 * repeated or empty-token entries are problems (never echoing the entry: it is a credential
 * digest); with `separateFrom`, so is a digest also listed there.
 */
function tokenDigests(setting: string, entries: readonly string[], problems: string[], separateFrom?: Record<string, string>): Record<string, string> {
  const digests: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [i, entry] of entries.entries()) {
    const m = /^([A-Za-z0-9_.@-]{1,64})=([0-9a-fA-F]{64})$/.exec(entry);
    if (!m) problems.push(`${setting}: entry ${i + 1} must be principal=<64 hex sha256 of the token>`);
    else if (m[1]! in digests) problems.push(`${setting}: principal "${m[1]}" is listed twice`);
    else if (m[2]!.toLowerCase() === EMPTY_TOKEN_DIGEST)
      problems.push(`${setting}: entry ${i + 1} is the SHA-256 of an empty token (was the token variable unset when you hashed it?)`);
    else if (separateFrom !== undefined && Object.values(separateFrom).includes(m[2]!.toLowerCase()))
      problems.push(`${setting}: entry ${i + 1} is also in JAM_ALLOWED_TOKENS; admin tokens must be separate`);
    else digests[m[1]!] = m[2]!.toLowerCase();
  }
  return digests;
}

/** JAM_ATTESTER_INDEXES (unset: every index below `attesters`): distinct integers below `attesters`. */
function parseAttesterIndexes(given: readonly string[] | undefined, attesters: number, problems: string[]): number[] {
  const attesterIndexes: number[] = [];
  for (const s of given ?? Array.from({ length: attesters }, (_, i) => String(i))) {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(n) || n >= attesters) problems.push(`JAM_ATTESTER_INDEXES: "${s}" is not an attester index below ${attesters}`);
    else if (attesterIndexes.includes(n)) problems.push(`JAM_ATTESTER_INDEXES: ${n} is listed twice`);
    else attesterIndexes.push(n);
  }
  return attesterIndexes;
}

/** The rules between settings, checked for the settings that parsed (`ok`). */
function checkCrossSettings(
  p: Parsed,
  ok: (key: SettingKey) => boolean,
  facts: { embedded: boolean; roles: readonly AppRole[]; rolesValid: boolean },
  problems: string[],
): void {
  if (ok('headers_timeout_ms') && ok('request_timeout_ms') && p.headers_timeout_ms > p.request_timeout_ms) {
    problems.push(`JAM_HEADERS_TIMEOUT_MS=${p.headers_timeout_ms} exceeds JAM_REQUEST_TIMEOUT_MS=${p.request_timeout_ms}`);
  }
  if (ok('max_url_bytes') && ok('max_header_bytes') && p.max_url_bytes >= p.max_header_bytes) {
    problems.push(
      `JAM_MAX_URL_BYTES=${p.max_url_bytes} must be below JAM_MAX_HEADER_BYTES=${p.max_header_bytes} (the request line counts toward the header cap)`,
    );
  }
  const { embedded, roles } = facts;
  if (ok('database_url') && ok('redis_url') && !embedded && (p.database_url === undefined || p.redis_url === undefined)) {
    problems.push('DATABASE_URL and REDIS_URL must be set together (production) or both left unset (embedded)');
  }
  // Embedded mode keeps the queue in this process: a gateway alone there accepts packages that no
  // worker ever sees (they stay pending). A shell that missed the exports must fail, not degrade.
  if (embedded && facts.rolesValid && roles.length > 0 && !APP_ROLES.every((r) => roles.includes(r))) {
    problems.push(
      `JAM_ROLES=${p.roles.join(',')} needs DATABASE_URL and REDIS_URL: without them the process runs embedded (in-process queue and database), where only JAM_ROLES=all works. Export DATABASE_URL and REDIS_URL for a role process, ${EMBEDDED_HINT}`,
    );
  }
  if (ok('blob_store') && p.blob_store === 's3-offload' && ok('s3_bucket') && p.s3_bucket === undefined) {
    problems.push('JAM_S3_BUCKET must be set when JAM_BLOB_STORE=s3-offload');
  }
  if (ok('s3_access_key_id') && ok('s3_secret_access_key') && (p.s3_access_key_id === undefined) !== (p.s3_secret_access_key === undefined)) {
    problems.push('JAM_S3_ACCESS_KEY_ID and JAM_S3_SECRET_ACCESS_KEY must be set together (or both left unset for the AWS default credential chain)');
  }
}

/** The frozen AppConfig from settings that all parsed and passed the cross-setting rules. */
function buildConfig(
  p: Parsed,
  cwd: string,
  d: {
    embedded: boolean;
    roles: readonly AppRole[];
    allowedTokenDigests: Record<string, string>;
    adminTokenDigests: Record<string, string>;
    adminIpAllowlist: string[];
    trustedProxies: string[];
    attesterIndexes: number[];
  },
): AppConfig {
  const dataDir = path.resolve(cwd, p.data_dir);
  const config: AppConfig = {
    port: p.port,
    rpcPort: p.rpc_port,
    rpcMaxMessageBytes: p.rpc_max_message_bytes,
    rpcIdleTimeoutMs: p.rpc_idle_timeout_ms,
    rpcMaxConnectionsPerPrincipal: p.rpc_max_connections_per_principal,
    rpcMaxSubscriptionsPerConnection: p.rpc_max_subscriptions_per_connection,
    metricsPort: p.metrics_port,
    host: p.host,
    dataDir,
    mode: d.embedded ? 'embedded' : 'production',
    databaseUrl: p.database_url,
    redisUrl: p.redis_url,
    queuePrefix: p.queue_prefix,
    roles: Object.freeze([...new Set(d.roles)]),
    authRequired: p.auth_required,
    allowedTokenDigests: Object.freeze(d.allowedTokenDigests),
    allowedTokensFile: p.allowed_tokens_file === undefined ? undefined : path.resolve(cwd, p.allowed_tokens_file),
    authzEnabled: p.authz_enabled,
    adminTokenDigests: Object.freeze(d.adminTokenDigests),
    adminTokensFile: p.admin_tokens_file === undefined ? undefined : path.resolve(cwd, p.admin_tokens_file),
    adminIpAllowlist: Object.freeze(d.adminIpAllowlist),
    trustedProxies: Object.freeze(d.trustedProxies),
    attesters: p.attesters,
    attestationThreshold: p.attestation_threshold,
    attesterIndexes: Object.freeze(d.attesterIndexes),
    keysDir: path.resolve(dataDir, p.keys_dir ?? 'keys'),
    blobDir: path.resolve(dataDir, p.blob_dir ?? 'blobs'),
    maxPreimageBytes: p.max_preimage_bytes,
    maxPendingPackages: p.max_pending_packages,
    maxConcurrentUploads: p.max_concurrent_uploads,
    maxStoredPreimageBytes: p.max_stored_preimage_bytes,
    maxServiceStorageBytes: p.max_service_storage_bytes,
    maxServiceStorageItems: p.max_service_storage_items,
    maxAccumulateTimeouts: p.max_accumulate_timeouts,
    maxSandboxFailures: p.max_sandbox_failures,
    maxPackageRetries: p.max_package_retries,
    rateLimitPerMinute: p.rate_limit_per_minute,
    adminRateLimitPerMinute: p.admin_rate_limit_per_minute,
    authFailureLimitPerMinute: p.auth_failure_limit_per_minute,
    maxUrlBytes: p.max_url_bytes,
    maxHeaderBytes: p.max_header_bytes,
    requestTimeoutMs: p.request_timeout_ms,
    headersTimeoutMs: p.headers_timeout_ms,
    bodyIdleTimeoutMs: p.body_idle_timeout_ms,
    retentionDays: p.retention_days,
    retentionIntervalMs: p.retention_interval_ms,
    retentionBatchSize: p.retention_batch_size,
    preimageGcGraceHours: p.preimage_gc_grace_hours,
    preimageGcIntervalMs: p.preimage_gc_interval_ms,
    blobHygieneIntervalMs: p.blob_hygiene_interval_ms,
    blobVerifySample: p.blob_verify_sample,
    blobStore: p.blob_store,
    s3:
      p.blob_store === 's3-offload'
        ? Object.freeze({
            endpoint: p.s3_endpoint,
            region: p.s3_region,
            bucket: p.s3_bucket!,
            prefix: p.s3_prefix,
            forcePathStyle: p.s3_force_path_style,
            credentials:
              p.s3_access_key_id === undefined ? undefined : Object.freeze({ accessKeyId: p.s3_access_key_id, secretAccessKey: p.s3_secret_access_key! }),
            offloadMinBytes: p.s3_offload_min_bytes,
            timeoutMs: p.s3_timeout_ms,
            migrateBatch: p.s3_migrate_batch,
          })
        : undefined,
    sandboxPoolSize: p.sandbox_pool_size,
    sandboxExpressExecutors: p.sandbox_express_executors,
    sandboxGeneralNice: p.sandbox_general_nice,
    sandboxWallClockMs: p.sandbox_wall_clock_ms,
    sandboxUid: p.sandbox_uid,
    sandboxGid: p.sandbox_gid,
    codeCheckPoolSize: p.code_check_pool_size,
    maxCodeChecksPerPrincipal: p.max_code_checks_per_principal,
    maxQueuedCodeChecks: p.max_queued_code_checks,
    refineConcurrency: p.refine_concurrency,
    refineExpressConcurrency: p.refine_express_concurrency,
    accumulateConcurrency: p.accumulate_concurrency,
    reconcileIntervalMs: p.reconcile_interval_ms,
    reconcileStaleMs: p.reconcile_stale_ms,
    logLevel: p.log_level,
    otlpEndpoint: p.otlp_endpoint,
  };
  return Object.freeze(config);
}

/**
 * What the `jam` CLI takes from the environment: JAM_URL (else http://127.0.0.1:$JAM_PORT when
 * JAM_PORT is set), JAM_TOKEN, JAM_DATA_DIR (where the dev token is) and JAM_ADMIN_TOKEN (for
 * `jam admin`). Empty values count as unset.
 */
export function cliEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): {
  url?: string;
  token?: string;
  dataDir?: string;
  adminToken?: string;
} {
  const port = env['JAM_PORT'];
  const url = env['JAM_URL'] || (port && /^\d{1,5}$/.test(port) ? `http://127.0.0.1:${port}` : undefined);
  const token = env['JAM_TOKEN'] || undefined;
  const dataDir = env['JAM_DATA_DIR'] || undefined;
  const adminToken = env['JAM_ADMIN_TOKEN'] || undefined;
  return { ...(url ? { url } : {}), ...(token ? { token } : {}), ...(dataDir ? { dataDir } : {}), ...(adminToken ? { adminToken } : {}) };
}

/**
 * The sandbox limits `jam run` applies, read like the server reads them so a local run matches a
 * worker configured by the same environment: `sandbox_wall_clock_ms` (ms),
 * `max_service_storage_bytes` (bytes) and `max_service_storage_items` (keys), defaults as the
 * settings table says. @throws Error naming the setting when a value is invalid
 */
export function localRunLimits(env: Readonly<Record<string, string | undefined>> = process.env): {
  wallClockMs: number;
  maxServiceStorageBytes: number;
  maxServiceStorageItems: number;
} {
  const read = <K extends 'sandbox_wall_clock_ms' | 'max_service_storage_bytes' | 'max_service_storage_items'>(key: K): number => {
    const def = SETTINGS[key];
    const parsed = def.schema.safeParse(env[def.env] || def.default);
    if (!parsed.success) throw new Error(`${def.env} (${key}): ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  };
  return {
    wallClockMs: read('sandbox_wall_clock_ms'),
    maxServiceStorageBytes: read('max_service_storage_bytes'),
    maxServiceStorageItems: read('max_service_storage_items'),
  };
}

/** A snapshot of the process environment; this lib is its only reader (docs/architecture.md section 12, habit 6). */
export function processEnvironment(): Readonly<Record<string, string | undefined>> {
  return Object.freeze({ ...process.env });
}

/**
 * A copy of the config safe to log: user info of URLs and credential-like query parameters
 * (`password`, `secret`, `token`, `key` in the name) replaced by `<redacted>`, token digests
 * reduced to the principal names. An unparsable URL is redacted whole.
 */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: redactUrl(config.databaseUrl),
    redisUrl: redactUrl(config.redisUrl),
    allowedTokenDigests: Object.keys(config.allowedTokenDigests),
    adminTokenDigests: Object.keys(config.adminTokenDigests),
    s3: config.s3 && { ...config.s3, endpoint: redactUrl(config.s3.endpoint), credentials: config.s3.credentials && '<redacted>' },
  };
}

/**
 * Normalises IP/CIDR entries to `addr/prefix` (a bare address gets /32 or /128).
 * Appends a problem naming `env` for each entry that is neither.
 */
function cidrList(entries: readonly string[], env: string, problems: string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    try {
      const [addr, prefix] = e.includes('/')
        ? ipaddr.parseCIDR(e)
        : (() => {
            const a = ipaddr.parse(e);
            return [a, a.kind() === 'ipv4' ? 32 : 128] as const;
          })();
      out.push(`${addr.toString()}/${prefix}`);
    } catch {
      problems.push(`${env}: "${e}" is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)`);
    }
  }
  return out;
}

function redactUrl(u: string | undefined): string | undefined {
  if (u === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return '<redacted>';
  }
  const auth = url.username !== '' || url.password !== '' ? '<redacted>@' : '';
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeURIComponent(k)}=${/pass|secret|token|key/i.test(k) ? '<redacted>' : encodeURIComponent(v)}`)
    .join('&');
  return `${url.protocol}//${auth}${url.host}${url.pathname}${query === '' ? '' : `?${query}`}`;
}
