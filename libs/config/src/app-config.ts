import { z } from 'zod';
import * as path from 'node:path';
import { SETTINGS, type SettingKey } from './config.schema';

/** The roles (apps) one process can run. WARNING: deployment manifests name these. */
export const APP_ROLES = ['gateway', 'refine-worker', 'attestation', 'accumulate-worker', 'janitor'] as const;
export type AppRole = (typeof APP_ROLES)[number];

type Parsed = { [K in SettingKey]: z.output<(typeof SETTINGS)[K]['schema']> };

/** Validated, frozen configuration of one process. Paths are absolute. */
export interface AppConfig {
  readonly port: number;
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
  readonly attesters: number;
  readonly attestationThreshold: number;
  readonly attesterIndexes: readonly number[];
  readonly keysDir: string;
  readonly blobDir: string;
  /** bytes */
  readonly maxPreimageBytes: number;
  readonly maxPendingPackages: number;
  readonly rateLimitPerMinute: number;
  readonly retentionDays: number;
  readonly sandboxPoolSize: number;
  /** ms */
  readonly sandboxWallClockMs: number;
  readonly refineConcurrency: number;
  readonly accumulateConcurrency: number;
  /** ms */
  readonly reconcileIntervalMs: number;
  /** ms */
  readonly reconcileStaleMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Thrown at boot for a wrong setting; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses and validates settings from an environment map (defaults to `process.env`; this lib is
 * the only reader of the environment). Returns a frozen `AppConfig`.
 * @throws ConfigError naming each bad variable and why.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, cwd: string = process.cwd()): AppConfig {
  const problems: string[] = [];
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
  if (problems.length > 0) throw new ConfigError(problems);
  const p = parsed as Parsed;

  const roles: AppRole[] = [];
  for (const r of p.roles) {
    if (r === 'all') roles.push(...APP_ROLES);
    else if ((APP_ROLES as readonly string[]).includes(r)) roles.push(r as AppRole);
    else problems.push(`JAM_ROLES: unknown role "${r}" (expected all or ${APP_ROLES.join(', ')})`);
  }
  if (p.attestation_threshold > p.attesters) {
    problems.push(`JAM_ATTESTATION_THRESHOLD=${p.attestation_threshold} exceeds JAM_ATTESTERS=${p.attesters}`);
  }
  const allowedTokenDigests: Record<string, string> = {};
  for (const entry of p.allowed_tokens ?? []) {
    const m = /^([A-Za-z0-9_.@-]{1,64})=([0-9a-fA-F]{64})$/.exec(entry);
    if (!m) problems.push('JAM_ALLOWED_TOKENS: each entry must be principal=<64 hex sha256 of the token>');
    else allowedTokenDigests[m[1]!] = m[2]!.toLowerCase();
  }
  const attesterIndexes: number[] = [];
  for (const s of p.attester_indexes ?? Array.from({ length: p.attesters }, (_, i) => String(i))) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n >= p.attesters) problems.push(`JAM_ATTESTER_INDEXES: "${s}" is not an attester index below ${p.attesters}`);
    else attesterIndexes.push(n);
  }
  const embedded = p.database_url === undefined && p.redis_url === undefined;
  if (!embedded && (p.database_url === undefined || p.redis_url === undefined)) {
    problems.push('DATABASE_URL and REDIS_URL must be set together (production) or both left unset (embedded)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(cwd, p.data_dir);
  const config: AppConfig = {
    port: p.port,
    host: p.host,
    dataDir,
    mode: embedded ? 'embedded' : 'production',
    databaseUrl: p.database_url,
    redisUrl: p.redis_url,
    queuePrefix: p.queue_prefix,
    roles: [...new Set(roles)],
    authRequired: p.auth_required,
    allowedTokenDigests,
    allowedTokensFile: p.allowed_tokens_file === undefined ? undefined : path.resolve(cwd, p.allowed_tokens_file),
    attesters: p.attesters,
    attestationThreshold: p.attestation_threshold,
    attesterIndexes,
    keysDir: path.resolve(dataDir, p.keys_dir ?? 'keys'),
    blobDir: path.resolve(dataDir, p.blob_dir ?? 'blobs'),
    maxPreimageBytes: p.max_preimage_bytes,
    maxPendingPackages: p.max_pending_packages,
    rateLimitPerMinute: p.rate_limit_per_minute,
    retentionDays: p.retention_days,
    sandboxPoolSize: p.sandbox_pool_size,
    sandboxWallClockMs: p.sandbox_wall_clock_ms,
    refineConcurrency: p.refine_concurrency,
    accumulateConcurrency: p.accumulate_concurrency,
    reconcileIntervalMs: p.reconcile_interval_ms,
    reconcileStaleMs: p.reconcile_stale_ms,
    logLevel: p.log_level,
  };
  return Object.freeze(config);
}

/** A copy of the config safe to log: URLs with credentials and token digests redacted. */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  const redactUrl = (u?: string) => (u === undefined ? undefined : u.replace(/\/\/[^@/]*@/, '//<redacted>@'));
  return {
    ...config,
    databaseUrl: redactUrl(config.databaseUrl),
    redisUrl: redactUrl(config.redisUrl),
    allowedTokenDigests: Object.keys(config.allowedTokenDigests),
  };
}
