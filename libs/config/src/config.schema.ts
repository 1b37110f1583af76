import { z } from 'zod';

/**
 * One setting: its environment variable, default, description and whether it is a secret.
 * The threat model's setting names (`auth_required`, `rate_limit_per_minute`, ...) are the keys;
 * the environment variable is `JAM_<KEY IN UPPER CASE>` unless a standard name exists
 * (`DATABASE_URL`, `REDIS_URL`).
 */
export interface SettingDefinition {
  env: string;
  description: string;
  sensitive: boolean;
  /** Default as the environment would spell it; undefined = unset. */
  default?: string;
}

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform((v) => Number(v))
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= max, `must be between ${min} and ${max}`);
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${protocols.join(' or ')}`,
    );
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

/** WARNING: operators' manifests and `.env` files use these names; renaming one is a breaking change. */
export const SETTINGS = {
  port: { env: 'JAM_PORT', default: '8080', sensitive: false, description: 'HTTP port of the gateway.', schema: int(0, 65535) },
  rpc_port: {
    env: 'JAM_RPC_PORT',
    default: '19800',
    sensitive: false,
    description:
      'Port of the JIP-2 JSON-RPC over WebSocket listener of the gateway role (docs/jip2.md), on JAM_HOST; 0 = no RPC listener. Same bearer tokens, authorization and rate_limit_per_minute as /jam (each RPC call costs one request).',
    schema: int(0, 65535),
  },
  rpc_max_message_bytes: {
    env: 'JAM_RPC_MAX_MESSAGE_BYTES',
    default: String(32 * 1024 * 1024),
    sensitive: false,
    description:
      'Largest JSON-RPC WebSocket message a client may send, bytes (base64 work package and extrinsics included); a larger one closes the connection with 1009. Each blob inside is still held to max_preimage_bytes and the GP package cap.',
    schema: int(1024, 1024 * 1024 * 1024),
  },
  rpc_idle_timeout_ms: {
    env: 'JAM_RPC_IDLE_TIMEOUT_MS',
    default: '300000',
    sensitive: false,
    description: 'An RPC connection with no call and no open subscription for this long, ms, is closed (1001).',
    schema: int(1000, 86_400_000),
  },
  rpc_max_connections_per_principal: {
    env: 'JAM_RPC_MAX_CONNECTIONS_PER_PRINCIPAL',
    default: '8',
    sensitive: false,
    description: 'Open RPC WebSocket connections one principal may hold on one gateway process; one more is refused with 429 rate_limited.',
    schema: int(1, 10_000),
  },
  rpc_max_subscriptions_per_connection: {
    env: 'JAM_RPC_MAX_SUBSCRIPTIONS_PER_CONNECTION',
    default: '32',
    sensitive: false,
    description: 'Open subscribe* subscriptions per RPC connection; one more is refused (JSON-RPC error 0, data.code rate_limited).',
    schema: int(1, 10_000),
  },
  metrics_port: {
    env: 'JAM_METRICS_PORT',
    sensitive: false,
    description: 'Port for /healthz and /metrics in processes without the gateway role (workers); unset = none. The gateway serves both on JAM_PORT.',
    schema: int(0, 65535).optional(),
  },
  host: {
    env: 'JAM_HOST',
    default: '127.0.0.1',
    sensitive: false,
    description: 'Address the gateway listens on (0.0.0.0 in containers).',
    schema: z.string().min(1),
  },
  data_dir: {
    env: 'JAM_DATA_DIR',
    default: '.jam-data',
    sensitive: false,
    description: 'Directory for embedded data: PGlite database, blobs, attester keys, dev token.',
    schema: z.string().min(1),
  },
  database_url: {
    env: 'DATABASE_URL',
    sensitive: true,
    description: 'PostgreSQL URL. Unset (with REDIS_URL unset) = embedded PGlite under data_dir.',
    schema: url(['postgres:', 'postgresql:']).optional(),
  },
  redis_url: {
    env: 'REDIS_URL',
    sensitive: true,
    description: 'Redis URL for BullMQ. Unset = in-process queue (embedded mode only).',
    schema: url(['redis:', 'rediss:']).optional(),
  },
  queue_prefix: {
    env: 'JAM_QUEUE_PREFIX',
    default: 'jam',
    sensitive: false,
    description: 'BullMQ key prefix in Redis. WARNING: changing it strands queued jobs (the reconciler re-enqueues them).',
    schema: z.string().regex(/^[a-zA-Z0-9_-]+$/),
  },
  roles: {
    env: 'JAM_ROLES',
    default: 'all',
    sensitive: false,
    description:
      'Apps this process runs: all, or a comma list of gateway, refine-worker, attestation, accumulate-worker, janitor. A list other than all needs DATABASE_URL and REDIS_URL (embedded mode runs only all; a boot error otherwise).',
    schema: list,
  },
  auth_required: { env: 'JAM_AUTH_REQUIRED', default: 'true', sensitive: false, description: 'Require a bearer token on /jam/*.', schema: bool },
  allowed_tokens: {
    env: 'JAM_ALLOWED_TOKENS',
    sensitive: true,
    description: 'Comma list of principal=sha256hex(token) entries allowed on /jam/*.',
    schema: list.optional(),
  },
  allowed_tokens_file: {
    env: 'JAM_ALLOWED_TOKENS_FILE',
    sensitive: false,
    description: 'File of `principal token` lines (plain tokens, hashed at boot); for secret mounts.',
    schema: z.string().min(1).optional(),
  },
  authz_enabled: {
    env: 'JAM_AUTHZ_ENABLED',
    default: 'true',
    sensitive: false,
    description:
      "Per-service authorization: only a service's owner and delegates (and admin tokens) submit to, list or read it and its packages, reports, storage and code; another principal gets 404 as if it did not exist. false = every authenticated token sees everything (single-tenant only).",
    schema: bool,
  },
  admin_tokens: {
    env: 'JAM_ADMIN_TOKENS',
    sensitive: true,
    description:
      'Comma list of principal=sha256hex(token) entries allowed on /admin/* (separate from allowed_tokens; the same token in both is a boot error). Unset = admin API closed.',
    schema: list.optional(),
  },
  admin_tokens_file: {
    env: 'JAM_ADMIN_TOKENS_FILE',
    sensitive: false,
    description: 'File of `principal token` lines for /admin/* (plain tokens, hashed at boot); for secret mounts.',
    schema: z.string().min(1).optional(),
  },
  admin_ip_allowlist: {
    env: 'JAM_ADMIN_IP_ALLOWLIST',
    default: '127.0.0.1/32,::1/128',
    sensitive: false,
    description:
      'Comma list of IPs/CIDRs allowed to use admin tokens (on /admin/* and /jam/*); checked against the peer address, or the X-Forwarded-For client when the peer is a trusted proxy.',
    schema: list,
  },
  trusted_proxies: {
    env: 'JAM_TRUSTED_PROXIES',
    sensitive: false,
    description: 'Comma list of IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed; unset = none (the peer address is the client).',
    schema: list.optional(),
  },
  attesters: {
    env: 'JAM_ATTESTERS',
    default: '3',
    sensitive: false,
    description: 'Number of attesters (n); each has its own Ed25519 key and refine queue.',
    schema: int(1, 1023),
  },
  attestation_threshold: {
    env: 'JAM_ATTESTATION_THRESHOLD',
    default: '2',
    sensitive: false,
    description: 'Distinct valid attester signatures needed before accumulate (t of n).',
    schema: int(1, 1023),
  },
  attester_indexes: {
    env: 'JAM_ATTESTER_INDEXES',
    sensitive: false,
    description: 'Attesters whose refine queues this process serves (comma list); default all (embedded).',
    schema: list.optional(),
  },
  keys_dir: {
    env: 'JAM_KEYS_DIR',
    sensitive: false,
    description:
      'Directory of attester keys (attester-<i>.pem, created on first start); default <data_dir>/keys. A relative path is resolved against data_dir, not the working directory.',
    schema: z.string().min(1).optional(),
  },
  blob_dir: {
    env: 'JAM_BLOB_DIR',
    sensitive: false,
    description:
      'Directory of the filesystem blob store; default <data_dir>/blobs. A relative path is resolved against data_dir, not the working directory: give every role the same absolute path.',
    schema: z.string().min(1).optional(),
  },
  max_preimage_bytes: {
    env: 'JAM_MAX_PREIMAGE_BYTES',
    default: String(64 * 1024 * 1024),
    sensitive: false,
    description: 'Largest preimage accepted, bytes (413 above).',
    schema: int(1, 2 ** 40),
  },
  max_pending_packages: {
    env: 'JAM_MAX_PENDING_PACKAGES',
    default: '1000',
    sensitive: false,
    description: 'Unfinished packages one principal may have (429 quota_exceeded above).',
    schema: int(1, 10_000_000),
  },
  max_concurrent_uploads: {
    env: 'JAM_MAX_CONCURRENT_UPLOADS',
    default: '8',
    sensitive: false,
    description:
      'Preimage uploads (PUT /jam/preimages) one principal may have in flight at once, per gateway process; 429 quota_exceeded above, before the body is read. Admins override it per principal (/admin/quotas).',
    schema: int(1, 100_000),
  },
  max_stored_preimage_bytes: {
    env: 'JAM_MAX_STORED_PREIMAGE_BYTES',
    default: String(1024 * 1024 * 1024),
    sensitive: false,
    description:
      'Bytes of preimages one principal may have stored (every preimage it uploaded counts whole, shared or not, until the GC removes it); an upload that would pass it answers 413 storage_quota_exceeded, before reading when Content-Length says so. Admins override it per principal (/admin/quotas).',
    schema: int(0, 2 ** 50),
  },
  // Per-service storage quota (threat model "Storage Bloat"). Maxima = MAX_STORAGE_SNAPSHOT_BYTES /
  // MAX_STORAGE_SNAPSHOT_ITEMS of libs/sandbox (the largest snapshot an executor is given; config
  // may not import the sandbox, apps/accumulate-worker's integration spec checks they agree).
  // Defaults: 16 MiB because every accumulate ships the whole storage to an executor (about 4
  // copies, 0.1-0.2 s per job) and 2 concurrent jobs must fit the 1 GiB worker pod with room to
  // spare; 32,768 items = half the executor's item ceiling, so a service left over a lowered quota
  // (up to twice it) still runs and can delete. Measurements: docs/service-abi.md.
  max_service_storage_bytes: {
    env: 'JAM_MAX_SERVICE_STORAGE_BYTES',
    default: String(16 * 1024 * 1024),
    sensitive: false,
    description:
      'Storage quota per service, bytes: sum of key length + value length of every stored item. In accumulate, a write that would grow the storage past it answers FULL (GP 0.7.2 write); shrinking writes and deletions are never refused by the quota (only by the per-job write-set cap of 4,096 keys, so a service far over a lowered quota cleans up over several jobs). Each accumulate ships the whole storage to a sandbox executor, so size worker memory for about 4 copies per concurrent job. At most 268435456.',
    schema: int(0, 256 * 1024 * 1024),
  },
  max_service_storage_items: {
    env: 'JAM_MAX_SERVICE_STORAGE_ITEMS',
    default: '32768',
    sensitive: false,
    description:
      'Storage quota per service, stored keys: a write that would add a key past it answers FULL. At most 65536 (what a sandbox executor can be given).',
    schema: int(0, 65_536),
  },
  max_accumulate_timeouts: {
    env: 'JAM_MAX_ACCUMULATE_TIMEOUTS',
    default: '3',
    sensitive: false,
    description:
      'Wall-clock kills (sandbox_wall_clock_ms) one accumulation (report, service) may take: earlier ones roll back and retry, the last is recorded as its final result timed_out and fails the package with accumulate_timeout. Counted in the database, across retries, worker restarts and reconciler rounds.',
    schema: int(1, 100),
  },
  max_sandbox_failures: {
    env: 'JAM_MAX_SANDBOX_FAILURES',
    default: '3',
    sensitive: false,
    description:
      "Failures without a guest result (the executor crashed, was killed or reported an engine fault; the service code or an extrinsic could not be read from the blob store: missing, corrupted, store error; in refine also wall-clock kills) one accumulation (report, service) or one attester's refine of a package may take. Earlier ones retry; at the bound an accumulation is recorded sandbox_failed (blob: blob_unavailable) and its package fails with accumulate_sandbox_failure (accumulate_blob_unavailable), and an attester gives up on the package, which fails (refine_sandbox_failure; refine_timeout when every attester that gave up was stopped by the wall clock, refine_blob_unavailable when each could not read a blob) once the attesters still able to sign cannot reach attestation_threshold. Counted in the database, across retries, worker restarts and reconciler rounds; never signed or accumulated as a result.",
    schema: int(1, 100),
  },
  max_package_retries: {
    env: 'JAM_MAX_PACKAGE_RETRIES',
    default: '3',
    sensitive: false,
    description:
      "Retries (POST /jam/packages/{hash}/retry by an owner or delegate, POST /admin/packages/{hash}/retry by an admin) one failed package may have in its lifetime. Only failures that are not deterministic guest outcomes are retryable: refine_timeout, refine_sandbox_failure, refine_blob_unavailable, accumulate_timeout, accumulate_sandbox_failure, accumulate_blob_unavailable, storage_over_limit. A retry clears the package's per-attester refine counts or its failed accumulations (those wrote nothing) and runs it again; accumulations that applied stay applied. 0 = no retries.",
    schema: int(0, 100),
  },
  rate_limit_per_minute: {
    env: 'JAM_RATE_LIMIT_PER_MINUTE',
    default: '600',
    sensitive: false,
    description:
      'Requests per minute per token (key: short token hash), and per client IP for requests without a valid token; 429 rate_limited with Retry-After. Held in Redis under <queue_prefix>:rl: so every gateway replica shares one budget (in memory when embedded). /healthz, /readyz and /metrics are exempt.',
    schema: int(1, 10_000_000),
  },
  admin_rate_limit_per_minute: {
    env: 'JAM_ADMIN_RATE_LIMIT_PER_MINUTE',
    default: '60',
    sensitive: false,
    description: 'Requests per minute per client on /admin/* (its own budget, shared across replicas like rate_limit_per_minute).',
    schema: int(1, 10_000_000),
  },
  auth_failure_limit_per_minute: {
    env: 'JAM_AUTH_FAILURE_LIMIT_PER_MINUTE',
    default: '30',
    sensitive: false,
    description:
      'Failed authentications (401) per minute per client IP; past it, requests from that IP without a valid token get 429 until the minute ends (throttles token guessing).',
    schema: int(1, 10_000_000),
  },
  retention_days: {
    env: 'JAM_RETENTION_DAYS',
    default: '30',
    sensitive: false,
    description:
      'Days a finished package (accumulated or failed) is kept after its last status change; the janitor then deletes it with its reports, attestations and accumulation rows (service storage stays). Disputed packages are kept until an admin resolves them.',
    schema: int(1, 36500),
  },
  retention_interval_ms: {
    env: 'JAM_RETENTION_INTERVAL_MS',
    default: '3600000',
    sensitive: false,
    description: 'How often the janitor runs the retention task, ms; each run deletes at most retention_batch_size packages per batch and 20 batches.',
    schema: int(1000, 86_400_000),
  },
  retention_batch_size: {
    env: 'JAM_RETENTION_BATCH_SIZE',
    default: '500',
    sensitive: false,
    description: 'Packages deleted per retention transaction (bounds lock time; a backlog drains over several runs).',
    schema: int(1, 1000),
  },
  preimage_gc_grace_hours: {
    env: 'JAM_PREIMAGE_GC_GRACE_HOURS',
    default: '24',
    sensitive: false,
    description:
      'An unreferenced preimage (no service code, no stored package extrinsic) is deleted, row then blob, only when not uploaded within this many hours; orphan blobs written within it are kept too.',
    schema: int(1, 87_600),
  },
  preimage_gc_interval_ms: {
    env: 'JAM_PREIMAGE_GC_INTERVAL_MS',
    default: '3600000',
    sensitive: false,
    description: 'How often the janitor runs the preimage GC, ms (at most 1000 preimages per run).',
    schema: int(1000, 86_400_000),
  },
  blob_hygiene_interval_ms: {
    env: 'JAM_BLOB_HYGIENE_INTERVAL_MS',
    default: '3600000',
    sensitive: false,
    description:
      'How often the janitor cleans the blob store, ms: temp files of crashed uploads older than an hour, orphan blobs (no preimage row) past the GC grace period, and a re-hash of blob_verify_sample blobs.',
    schema: int(1000, 86_400_000),
  },
  blob_verify_sample: {
    env: 'JAM_BLOB_VERIFY_SAMPLE',
    default: '100',
    sensitive: false,
    description: 'Blobs re-hashed per blob hygiene run; corrupt ones are logged and counted (jam_blobs_corrupt_total), never deleted. 0 = verifier off.',
    schema: int(0, 100_000),
  },
  blob_store: {
    env: 'JAM_BLOB_STORE',
    default: 'fs',
    sensitive: false,
    description:
      'Where preimage bytes live: fs (the filesystem store under blob_dir), or s3-offload (blobs of at least s3_offload_min_bytes go to the S3 bucket, smaller ones stay on the filesystem; needs JAM_S3_BUCKET).',
    schema: z.enum(['fs', 's3-offload']),
  },
  s3_endpoint: {
    env: 'JAM_S3_ENDPOINT',
    sensitive: false,
    description: 'S3 API endpoint URL (MinIO, Ceph, or a regional AWS endpoint); unset = AWS for s3_region.',
    schema: url(['http:', 'https:']).optional(),
  },
  s3_region: {
    env: 'JAM_S3_REGION',
    default: 'us-east-1',
    sensitive: false,
    description: 'S3 region (signing region for S3-compatible servers).',
    schema: z
      .string()
      .trim()
      .regex(/^[a-z0-9-]{1,32}$/, 'must be a region name such as eu-central-1'),
  },
  s3_bucket: {
    env: 'JAM_S3_BUCKET',
    sensitive: false,
    description: 'Bucket of offloaded blobs (required with JAM_BLOB_STORE=s3-offload). Only the server should reach it: see docs/security.md.',
    schema: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 of a-z 0-9 . -)')
      .optional(),
  },
  s3_prefix: {
    env: 'JAM_S3_PREFIX',
    default: 'jam/blobs',
    sensitive: false,
    description: 'Key prefix in the bucket; objects are <prefix>/<0x hash>. Empty = bucket root.',
    schema: z
      .string()
      .trim()
      .regex(/^(?:[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)?$/, 'must be path segments of A-Z a-z 0-9 _ . - separated by /, without leading or trailing /'),
  },
  s3_force_path_style: {
    env: 'JAM_S3_FORCE_PATH_STYLE',
    default: 'true',
    sensitive: false,
    description: 'Path-style S3 URLs (<endpoint>/<bucket>/<key>), as most S3-compatible servers need; false = virtual-hosted style.',
    schema: bool,
  },
  s3_access_key_id: {
    env: 'JAM_S3_ACCESS_KEY_ID',
    sensitive: true,
    description:
      'S3 access key id; set together with JAM_S3_SECRET_ACCESS_KEY. Both unset = the AWS SDK default chain (AWS_* variables, web identity/IRSA, instance role).',
    schema: z.string().min(1).optional(),
  },
  s3_secret_access_key: {
    env: 'JAM_S3_SECRET_ACCESS_KEY',
    sensitive: true,
    description: 'S3 secret access key (never logged).',
    schema: z.string().min(1).optional(),
  },
  s3_offload_min_bytes: {
    env: 'JAM_S3_OFFLOAD_MIN_BYTES',
    default: String(1024 * 1024),
    sensitive: false,
    description: 'Blobs of at least this many bytes go to S3 in s3-offload mode; smaller ones stay on the filesystem.',
    schema: int(0, 2 ** 40),
  },
  s3_timeout_ms: {
    env: 'JAM_S3_TIMEOUT_MS',
    default: '30000',
    sensitive: false,
    description:
      'Connect timeout and socket idle timeout of each S3 request, ms; a request is attempted 3 times (SDK retry with backoff) before the operation fails.',
    schema: int(100, 600_000),
  },
  s3_migrate_batch: {
    env: 'JAM_S3_MIGRATE_BATCH',
    default: '100',
    sensitive: false,
    description:
      'In s3-offload mode, filesystem blobs of at least s3_offload_min_bytes moved to S3 per blob hygiene run (upload, verify, set storage_tier, delete the local copy). 0 = migrator off.',
    schema: int(0, 100_000),
  },
  sandbox_pool_size: {
    env: 'JAM_SANDBOX_POOL_SIZE',
    default: '2',
    sensitive: false,
    description: 'Pre-started sandbox executors per worker process.',
    schema: int(1, 64),
  },
  sandbox_express_executors: {
    env: 'JAM_SANDBOX_EXPRESS_EXECUTORS',
    default: '1',
    sensitive: false,
    description:
      'Extra sandbox executors per worker process that run only short calls (gas limit at most G_A = 10M: every accumulate, and refine items of ordinary size), so those never wait behind long refines of any tenant (docs/fairness.md). 0 = none.',
    schema: int(0, 16),
  },
  sandbox_general_nice: {
    env: 'JAM_SANDBOX_GENERAL_NICE',
    default: '10',
    sensitive: false,
    description:
      "Nice increment of the general sandbox executors (the ones that take long refines) over the worker process's own, at most 19; express executors keep the worker's. On a shared CPU short calls and the workers then get the CPU before long refines (docs/fairness.md). 0 = same priority.",
    schema: int(0, 19),
  },
  sandbox_wall_clock_ms: {
    env: 'JAM_SANDBOX_WALL_CLOCK_MS',
    default: '10000',
    sensitive: false,
    description: 'Wall-clock backstop per guest call, ms; the executor is killed and replaced past it.',
    schema: int(100, 600_000),
  },
  sandbox_uid: {
    env: 'JAM_SANDBOX_UID',
    sensitive: false,
    description:
      "OS user id sandbox executors run guest code as (docs/sandbox.md). Unset: 65534 (nobody) when the process runs as root, else the process's own uid. A uid other than the process's own needs root (CAP_SETUID): otherwise the process refuses to start. 0 is refused: guest code never runs as root.",
    schema: int(1, 4294967294).optional(),
  },
  sandbox_gid: {
    env: 'JAM_SANDBOX_GID',
    sensitive: false,
    description:
      "OS group id of sandbox executors. Unset: sandbox_uid when that is set, else 65534 (nogroup) as root, else the process's own gid. Needs root like sandbox_uid.",
    schema: int(1, 4294967294).optional(),
  },
  code_check_pool_size: {
    env: 'JAM_CODE_CHECK_POOL_SIZE',
    default: '1',
    sensitive: false,
    description:
      "Sandbox executors per gateway process that check service code at registration (POST /jam/services: validate, meter, compile every function, instantiate), off the gateway's event loop, each bounded by sandbox_wall_clock_ms and the executor heap.",
    schema: int(1, 64),
  },
  max_code_checks_per_principal: {
    env: 'JAM_MAX_CODE_CHECKS_PER_PRINCIPAL',
    default: '1',
    sensitive: false,
    description:
      'Registration code checks one principal may have running or queued at once per gateway process; past it POST /jam/services answers 429 rate_limited (scope code_checks) with Retry-After.',
    schema: int(1, 1024),
  },
  max_queued_code_checks: {
    env: 'JAM_MAX_QUEUED_CODE_CHECKS',
    default: '16',
    sensitive: false,
    description:
      'Registration code checks running or queued at once per gateway process, all principals together; past it POST /jam/services answers 429 rate_limited (scope code_check_queue) with Retry-After.',
    schema: int(1, 100_000),
  },
  refine_concurrency: {
    env: 'JAM_REFINE_CONCURRENCY',
    default: '2',
    sensitive: false,
    description: 'Refine jobs in flight per attester queue (refine-aN: packages declaring more than G_A of refine gas) per process.',
    schema: int(1, 256),
  },
  refine_express_concurrency: {
    env: 'JAM_REFINE_EXPRESS_CONCURRENCY',
    default: '2',
    sensitive: false,
    description:
      'Refine jobs in flight per attester express queue (refine-express-aN: short packages, declared refine gas at most G_A = 10M) per process, beside refine_concurrency, so a short package never waits for a slot held by a long refine (docs/fairness.md).',
    schema: int(1, 256),
  },
  accumulate_concurrency: {
    env: 'JAM_ACCUMULATE_CONCURRENCY',
    default: '2',
    sensitive: false,
    description: 'Accumulate jobs in flight per process (one service still applies one report at a time).',
    schema: int(1, 256),
  },
  reconcile_interval_ms: {
    env: 'JAM_RECONCILE_INTERVAL_MS',
    default: '15000',
    sensitive: false,
    description: 'How often the janitor reconciles database rows with queued jobs, ms.',
    schema: int(100, 86_400_000),
  },
  reconcile_stale_ms: {
    env: 'JAM_RECONCILE_STALE_MS',
    default: '30000',
    sensitive: false,
    description: 'A package unchanged this long whose job is missing is re-enqueued, ms.',
    schema: int(0, 86_400_000),
  },
  max_url_bytes: {
    env: 'JAM_MAX_URL_BYTES',
    default: '4096',
    sensitive: false,
    description: 'Longest request target (path and query), bytes; 414 uri_too_long above. Keep it below max_header_bytes.',
    schema: int(64, 65_536),
  },
  max_header_bytes: {
    env: 'JAM_MAX_HEADER_BYTES',
    default: '16384',
    sensitive: false,
    description: 'Largest request line plus headers, bytes (Node maxHeaderSize); 431 header_too_large above.',
    schema: int(1024, 1_048_576),
  },
  request_timeout_ms: {
    env: 'JAM_REQUEST_TIMEOUT_MS',
    default: '300000',
    sensitive: false,
    description: 'Longest time to receive one whole request (headers and body), ms; 408 request_timeout and the connection closed past it.',
    schema: int(100, 3_600_000),
  },
  headers_timeout_ms: {
    env: 'JAM_HEADERS_TIMEOUT_MS',
    default: '20000',
    sensitive: false,
    description: 'Longest time to receive the request headers, ms (at most request_timeout_ms); 408 past it.',
    schema: int(100, 3_600_000),
  },
  body_idle_timeout_ms: {
    env: 'JAM_BODY_IDLE_TIMEOUT_MS',
    default: '30000',
    sensitive: false,
    description:
      'Longest pause between bytes of a request body, ms; a stalled upload gets 408 request_timeout, the connection is closed and nothing is stored.',
    schema: int(100, 3_600_000),
  },
  log_level: {
    env: 'JAM_LOG_LEVEL',
    default: 'info',
    sensitive: false,
    description: 'pino log level.',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  otlp_endpoint: {
    env: 'JAM_OTLP_ENDPOINT',
    sensitive: false,
    description:
      'OpenTelemetry collector base URL for OTLP/HTTP traces (e.g. http://otel-collector:4318; /v1/traces is appended). Unset = tracing off (no-op tracer). Auth headers: the standard OTEL_EXPORTER_OTLP_HEADERS. See docs/observability.md.',
    schema: url(['http:', 'https:']).optional(),
  },
} as const;

export type SettingKey = keyof typeof SETTINGS;
