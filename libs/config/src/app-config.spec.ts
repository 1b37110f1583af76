import { APP_ROLES, ConfigError, loadConfig, loadRoleConfig, redactConfig, type AppConfig } from './app-config';
import { SETTINGS } from './config.schema';

const CWD = '/srv/jam';
const DIGEST_A = 'a'.repeat(64);
const DIGEST_B = 'B'.repeat(64);

/** The ConfigError that `loadConfig(env)` throws (fails the test if it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, CWD);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('loadConfig', () => {
  it('applies the documented defaults with an empty environment (embedded mode)', () => {
    const c = loadConfig({}, CWD);
    expect({ ...c, allowedTokenDigests: { ...c.allowedTokenDigests }, adminTokenDigests: { ...c.adminTokenDigests } }).toEqual({
      port: 8080,
      rpcPort: 19800,
      rpcMaxMessageBytes: 32 * 1024 * 1024,
      rpcIdleTimeoutMs: 300_000,
      rpcMaxConnectionsPerPrincipal: 8,
      rpcMaxSubscriptionsPerConnection: 32,
      host: '127.0.0.1',
      dataDir: '/srv/jam/.jam-data',
      mode: 'embedded',
      databaseUrl: undefined,
      redisUrl: undefined,
      queuePrefix: 'jam',
      roles: [...APP_ROLES],
      authRequired: true,
      allowedTokenDigests: {},
      allowedTokensFile: undefined,
      authzEnabled: true,
      adminTokenDigests: {},
      adminTokensFile: undefined,
      adminIpAllowlist: ['127.0.0.1/32', '::1/128'],
      trustedProxies: [],
      attesters: 3,
      attestationThreshold: 2,
      attesterIndexes: [0, 1, 2],
      keysDir: '/srv/jam/.jam-data/keys',
      blobDir: '/srv/jam/.jam-data/blobs',
      maxPreimageBytes: 64 * 1024 * 1024,
      maxPendingPackages: 1000,
      maxConcurrentUploads: 8,
      maxStoredPreimageBytes: 1024 * 1024 * 1024,
      maxServiceStorageBytes: 16 * 1024 * 1024,
      maxServiceStorageItems: 32_768,
      maxAccumulateTimeouts: 3,
      maxSandboxFailures: 3,
      maxPackageRetries: 3,
      rateLimitPerMinute: 600,
      adminRateLimitPerMinute: 60,
      authFailureLimitPerMinute: 30,
      maxUrlBytes: 4096,
      maxHeaderBytes: 16384,
      requestTimeoutMs: 300_000,
      headersTimeoutMs: 20_000,
      bodyIdleTimeoutMs: 30_000,
      retentionDays: 30,
      retentionIntervalMs: 3_600_000,
      retentionBatchSize: 500,
      preimageGcGraceHours: 24,
      preimageGcIntervalMs: 3_600_000,
      blobHygieneIntervalMs: 3_600_000,
      blobVerifySample: 100,
      blobStore: 'fs',
      s3: undefined,
      sandboxPoolSize: 2,
      sandboxExpressExecutors: 1,
      sandboxGeneralNice: 10,
      sandboxWallClockMs: 10_000,
      codeCheckPoolSize: 1,
      maxCodeChecksPerPrincipal: 1,
      maxQueuedCodeChecks: 16,
      refineConcurrency: 2,
      refineExpressConcurrency: 2,
      accumulateConcurrency: 2,
      reconcileIntervalMs: 15_000,
      reconcileStaleMs: 30_000,
      logLevel: 'info',
    } satisfies AppConfig);
  });

  it('treats an empty string as unset', () => {
    expect(loadConfig({ JAM_PORT: '', DATABASE_URL: '', REDIS_URL: '' }, CWD)).toMatchObject({ port: 8080, mode: 'embedded' });
  });

  it('parses values and resolves paths against cwd and the data dir', () => {
    const c = loadConfig(
      {
        JAM_PORT: ' 9000 ',
        JAM_AUTH_REQUIRED: 'No',
        JAM_DATA_DIR: 'var/data',
        JAM_KEYS_DIR: '/run/secrets/keys',
        JAM_BLOB_DIR: 'b',
        JAM_ALLOWED_TOKENS_FILE: 'tokens.txt',
        JAM_LOG_LEVEL: 'debug',
        JAM_MAX_PREIMAGE_BYTES: '1024',
        JAM_MAX_SERVICE_STORAGE_BYTES: '268435456',
        JAM_MAX_SERVICE_STORAGE_ITEMS: '0',
        JAM_MAX_ACCUMULATE_TIMEOUTS: '1',
        JAM_MAX_SANDBOX_FAILURES: '5',
        JAM_MAX_PACKAGE_RETRIES: '0',
      },
      CWD,
    );
    expect(c).toMatchObject({
      port: 9000,
      authRequired: false,
      dataDir: '/srv/jam/var/data',
      keysDir: '/run/secrets/keys',
      blobDir: '/srv/jam/var/data/b',
      allowedTokensFile: '/srv/jam/tokens.txt',
      logLevel: 'debug',
      maxPreimageBytes: 1024,
      maxServiceStorageBytes: 268_435_456,
      maxServiceStorageItems: 0,
      maxAccumulateTimeouts: 1,
      maxSandboxFailures: 5,
      maxPackageRetries: 0,
    });
  });

  // Each bad value is reported under its variable name.
  it.each([
    ['JAM_PORT', 'http'],
    ['JAM_PORT', '65536'],
    ['JAM_PORT', '-1'],
    ['JAM_PORT', '80.5'],
    ['JAM_QUEUE_PREFIX', 'jam:prod'],
    ['JAM_AUTH_REQUIRED', 'maybe'],
    ['JAM_ATTESTERS', '0'],
    ['JAM_ATTESTATION_THRESHOLD', '0'],
    ['JAM_MAX_PREIMAGE_BYTES', '0'],
    ['JAM_MAX_PENDING_PACKAGES', '1e3'],
    ['JAM_MAX_SERVICE_STORAGE_BYTES', '-1'],
    ['JAM_MAX_SERVICE_STORAGE_BYTES', String(256 * 1024 * 1024 + 1)],
    ['JAM_MAX_SERVICE_STORAGE_BYTES', '16MiB'],
    ['JAM_MAX_SERVICE_STORAGE_ITEMS', '65537'],
    ['JAM_MAX_SERVICE_STORAGE_ITEMS', '-1'],
    ['JAM_MAX_ACCUMULATE_TIMEOUTS', '0'],
    ['JAM_MAX_ACCUMULATE_TIMEOUTS', '101'],
    ['JAM_MAX_SANDBOX_FAILURES', '0'],
    ['JAM_MAX_SANDBOX_FAILURES', '101'],
    ['JAM_RATE_LIMIT_PER_MINUTE', 'lots'],
    ['JAM_RETENTION_DAYS', '99999999'],
    ['JAM_SANDBOX_POOL_SIZE', '65'],
    ['JAM_SANDBOX_WALL_CLOCK_MS', '99'],
    ['JAM_REFINE_CONCURRENCY', '0'],
    ['JAM_ACCUMULATE_CONCURRENCY', '257'],
    ['JAM_RECONCILE_INTERVAL_MS', '5'],
    ['JAM_RECONCILE_STALE_MS', '-5'],
    ['JAM_LOG_LEVEL', 'verbose'],
    ['JAM_ROLES', 'gateway,scheduler'],
    ['JAM_ROLES', ' , '],
    ['JAM_ATTESTER_INDEXES', '3'],
    ['JAM_ATTESTER_INDEXES', '-1'],
    ['JAM_ATTESTER_INDEXES', '0,0'],
    ['JAM_ATTESTER_INDEXES', 'one'],
    ['JAM_ALLOWED_TOKENS', 'alice'],
  ])('reports %s=%j by name', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(new RegExp(`^${name}[=:]`));
    expect(err.message).toContain(name);
  });

  it('reports every bad variable at once, including cross-setting rules', () => {
    const err = configError({
      JAM_PORT: 'x',
      JAM_LOG_LEVEL: 'loud',
      JAM_ROLES: 'bogus',
      JAM_ATTESTERS: '2',
      JAM_ATTESTATION_THRESHOLD: '3',
      DATABASE_URL: 'postgres://db/jam',
    });
    expect(err.problems.map((p) => p.split(/[=:]/)[0])).toEqual([
      'JAM_PORT',
      'JAM_LOG_LEVEL',
      'JAM_ROLES',
      'JAM_ATTESTATION_THRESHOLD',
      'DATABASE_URL and REDIS_URL must be set together (production) or both left unset (embedded)',
    ]);
  });

  it('never shows the value of a sensitive setting', () => {
    const err = configError({
      DATABASE_URL: 'mysql://admin:hunter2@db/jam',
      REDIS_URL: 'http://:s3cr3t-redis@cache',
      JAM_ALLOWED_TOKENS: `alice=${DIGEST_A},bob=hunter3-not-a-digest`,
    });
    expect(err.problems).toHaveLength(3);
    expect(err.message).toContain('DATABASE_URL=<redacted>');
    expect(err.message).toContain('REDIS_URL=<redacted>');
    expect(err.message).toContain('JAM_ALLOWED_TOKENS: entry 2');
    for (const secret of ['hunter2', 's3cr3t-redis', 'hunter3', DIGEST_A]) expect(err.message).not.toContain(secret);
    for (const [key, def] of Object.entries(SETTINGS)) {
      if (['database_url', 'redis_url', 'allowed_tokens'].includes(key)) expect(def.sensitive).toBe(true);
    }
  });

  it('requires DATABASE_URL and REDIS_URL together; both give production mode', () => {
    expect(configError({ DATABASE_URL: 'postgres://u:p@db/jam' }).problems).toEqual([
      'DATABASE_URL and REDIS_URL must be set together (production) or both left unset (embedded)',
    ]);
    expect(configError({ REDIS_URL: 'redis://cache:6379' }).problems).toHaveLength(1);
    const c = loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/jam', REDIS_URL: 'rediss://cache:6380' }, CWD);
    expect(c).toMatchObject({ mode: 'production', databaseUrl: 'postgresql://u:p@db:5432/jam', redisUrl: 'rediss://cache:6380' });
  });

  it('refuses a role subset without DATABASE_URL/REDIS_URL (embedded runs only JAM_ROLES=all), naming the fix', () => {
    for (const roles of ['gateway', 'refine-worker', 'gateway,attestation,accumulate-worker,janitor']) {
      const problems = configError({ JAM_ROLES: roles }).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`JAM_ROLES=${roles} needs DATABASE_URL and REDIS_URL`);
      expect(problems[0]).toContain('only JAM_ROLES=all works');
    }
    expect(loadConfig({}, CWD).mode).toBe('embedded');
    expect(loadConfig({ JAM_ROLES: 'all' }, CWD).mode).toBe('embedded');
    // Every role listed by name is the same as all.
    expect(loadConfig({ JAM_ROLES: [...APP_ROLES].reverse().join(',') }, CWD).roles).toHaveLength(APP_ROLES.length);
    // With both URLs a subset is a production role process.
    expect(loadConfig({ JAM_ROLES: 'gateway', DATABASE_URL: 'postgres://u:p@db/jam', REDIS_URL: 'redis://cache:6379' }, CWD)).toMatchObject({
      mode: 'production',
      roles: ['gateway'],
    });
  });

  it('rejects a threshold above the number of attesters and accepts t = n', () => {
    expect(configError({ JAM_ATTESTERS: '3', JAM_ATTESTATION_THRESHOLD: '4' }).problems).toEqual(['JAM_ATTESTATION_THRESHOLD=4 exceeds JAM_ATTESTERS=3']);
    expect(loadConfig({ JAM_ATTESTERS: '3', JAM_ATTESTATION_THRESHOLD: '3' }, CWD).attestationThreshold).toBe(3);
    expect(configError({ JAM_ATTESTERS: '1' }).problems).toEqual(['JAM_ATTESTATION_THRESHOLD=2 exceeds JAM_ATTESTERS=1']);
  });

  it('parses JAM_ROLES: a trimmed comma list, `all` expands, duplicates collapse', () => {
    const urls = { DATABASE_URL: 'postgres://u:p@db/jam', REDIS_URL: 'redis://cache:6379' };
    expect(loadConfig({ ...urls, JAM_ROLES: ' gateway , janitor,' }, CWD).roles).toEqual(['gateway', 'janitor']);
    expect(loadConfig({ JAM_ROLES: 'all' }, CWD).roles).toEqual([...APP_ROLES]);
    expect(loadConfig({ JAM_ROLES: 'janitor,all,janitor' }, CWD).roles).toEqual(['janitor', 'gateway', 'refine-worker', 'attestation', 'accumulate-worker']);
    expect(configError({ JAM_ROLES: 'Gateway' }).problems[0]).toContain('unknown role "Gateway"');
  });

  it('parses JAM_ALLOWED_TOKENS into principal -> lowercase digest', () => {
    const c = loadConfig({ JAM_ALLOWED_TOKENS: ` alice=${DIGEST_A} , ci.bot@example=${DIGEST_B}` }, CWD);
    expect(Object.entries(c.allowedTokenDigests)).toEqual([
      ['alice', DIGEST_A],
      ['ci.bot@example', DIGEST_B.toLowerCase()],
    ]);
    expect(configError({ JAM_ALLOWED_TOKENS: `alice=${DIGEST_A},alice=${DIGEST_B}` }).problems).toEqual([
      'JAM_ALLOWED_TOKENS: principal "alice" is listed twice',
    ]);
    expect(configError({ JAM_ALLOWED_TOKENS: `alice=${DIGEST_A.slice(1)}` }).problems).toHaveLength(1);
    expect(configError({ JAM_ALLOWED_TOKENS: `ali ce=${DIGEST_A}` }).problems).toHaveLength(1);
  });

  it('keeps principals named like Object members as plain data', () => {
    const c = loadConfig({ JAM_ALLOWED_TOKENS: `__proto__=${DIGEST_A},constructor=${'c'.repeat(64)}` }, CWD);
    expect(Object.keys(c.allowedTokenDigests)).toEqual(['__proto__', 'constructor']);
    expect(c.allowedTokenDigests['__proto__']).toBe(DIGEST_A);
    // Without the entries, no inherited member looks like a configured principal.
    expect(loadConfig({}, CWD).allowedTokenDigests['constructor']).toBeUndefined();
  });

  it('serves selected attester indexes', () => {
    expect(loadConfig({ JAM_ATTESTERS: '4', JAM_ATTESTER_INDEXES: '3, 1' }, CWD).attesterIndexes).toEqual([3, 1]);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({ JAM_ALLOWED_TOKENS: `alice=${DIGEST_A}` }, CWD);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.roles)).toBe(true);
    expect(Object.isFrozen(c.attesterIndexes)).toBe(true);
    expect(Object.isFrozen(c.allowedTokenDigests)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => (c.roles as string[]).push('gateway')).toThrow(TypeError);
    expect(() => {
      (c.allowedTokenDigests as Record<string, string>)['mallory'] = DIGEST_B;
    }).toThrow(TypeError);
    expect(c.port).toBe(8080);
  });
});

describe('loadConfig: authorization and admin settings', () => {
  it('parses admin tokens, the admin IP allowlist and trusted proxies (bare IPs become /32 or /128)', () => {
    const c = loadConfig(
      {
        JAM_ADMIN_TOKENS: `ops=${DIGEST_B}`,
        JAM_ADMIN_IP_ALLOWLIST: '10.0.0.0/8, 192.0.2.7, ::1',
        JAM_TRUSTED_PROXIES: '127.0.0.2',
        JAM_AUTHZ_ENABLED: 'false',
      },
      CWD,
    );
    expect({ ...c.adminTokenDigests }).toEqual({ ops: 'b'.repeat(64) });
    expect(c.adminIpAllowlist).toEqual(['10.0.0.0/8', '192.0.2.7/32', '::1/128']);
    expect(c.trustedProxies).toEqual(['127.0.0.2/32']);
    expect(c.authzEnabled).toBe(false);
  });

  it('refuses malformed CIDRs and an admin token that is also an allowed token, without echoing the digest', () => {
    const err = configError({
      JAM_ALLOWED_TOKENS: `alice=${DIGEST_A}`,
      JAM_ADMIN_TOKENS: `ops=${DIGEST_A}`,
      JAM_ADMIN_IP_ALLOWLIST: '10.0.0.0/33',
      JAM_TRUSTED_PROXIES: 'proxy.local',
    });
    expect(err.problems).toEqual([
      'JAM_ADMIN_TOKENS: entry 1 is also in JAM_ALLOWED_TOKENS; admin tokens must be separate',
      'JAM_ADMIN_IP_ALLOWLIST: "10.0.0.0/33" is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)',
      'JAM_TRUSTED_PROXIES: "proxy.local" is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)',
    ]);
    expect(err.message).not.toContain(DIGEST_A);
  });
});

describe("loadRoleConfig (a role's own entry point)", () => {
  const urls = { DATABASE_URL: 'postgres://u:p@db/jam', REDIS_URL: 'redis://cache:6379' };
  const roleConfigError = (env: Record<string, string>, role: (typeof APP_ROLES)[number]): ConfigError => {
    try {
      loadRoleConfig(env, role, '/srv/jam');
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    throw new Error('expected a ConfigError');
  };

  it('runs only its role, with JAM_ROLES unset or naming that role, and reads every other setting as loadConfig does', () => {
    for (const role of APP_ROLES) {
      expect(loadRoleConfig({ ...urls }, role, '/srv/jam')).toMatchObject({ mode: 'production', roles: [role] });
      expect(loadRoleConfig({ ...urls, JAM_ROLES: ` ${role} ` }, role, '/srv/jam').roles).toEqual([role]);
    }
    const env = { ...urls, JAM_PORT: '9001', JAM_ATTESTER_INDEXES: '1' };
    expect(loadRoleConfig(env, 'refine-worker', '/srv/jam')).toEqual(loadConfig({ ...env, JAM_ROLES: 'refine-worker' }, '/srv/jam'));
  });

  it('refuses JAM_ROLES naming other roles, naming the fix', () => {
    const problems = roleConfigError({ ...urls, JAM_ROLES: 'gateway,janitor' }, 'janitor').problems;
    expect(problems).toEqual([
      'JAM_ROLES=gateway,janitor: this is the janitor entry point, which runs only janitor; unset JAM_ROLES, set it to janitor, or start apps/standalone for other roles',
    ]);
    expect(roleConfigError({ ...urls, JAM_ROLES: 'all' }, 'gateway').problems[0]).toContain('this is the gateway entry point');
  });

  it('without DATABASE_URL/REDIS_URL names the embedded launcher as the alternative, not unsetting JAM_ROLES', () => {
    const [problem] = roleConfigError({}, 'attestation').problems;
    expect(problem).toContain('JAM_ROLES=attestation needs DATABASE_URL and REDIS_URL');
    expect(problem).toContain('npm start');
    expect(problem).not.toContain('leave JAM_ROLES unset');
  });
});

describe('redactConfig', () => {
  const prod = (databaseUrl: string, redisUrl: string): AppConfig =>
    loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JAM_ALLOWED_TOKENS: `alice=${DIGEST_A}` }, CWD);

  it('hides URL credentials, credential query parameters and token digests', () => {
    const r = redactConfig(prod('postgres://jam:pa@ss@db.internal:5432/jam?sslmode=require&password=hunter2', 'rediss://default:s3cr3t@cache:6380/0'));
    expect(r['databaseUrl']).toBe('postgres://<redacted>@db.internal:5432/jam?sslmode=require&password=<redacted>');
    expect(r['redisUrl']).toBe('rediss://<redacted>@cache:6380/0');
    expect(r['allowedTokenDigests']).toEqual(['alice']);
    const text = JSON.stringify(r);
    for (const secret of ['pa@ss', 'ss@db', 'hunter2', 's3cr3t', 'jam:', DIGEST_A]) expect(text).not.toContain(secret);
  });

  it('leaves URLs without credentials readable and keeps the other settings', () => {
    const r = redactConfig(prod('postgresql://db/jam', 'redis://cache:6379'));
    expect(r['databaseUrl']).toBe('postgresql://db/jam');
    expect(r['redisUrl']).toBe('redis://cache:6379');
    expect(r['port']).toBe(8080);
  });
});

describe('token digests', () => {
  it('refuses the SHA-256 of an empty token (an unset variable hashed by mistake)', () => {
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(() => loadConfig({ JAM_ALLOWED_TOKENS: `alice=${empty}` }, '/tmp')).toThrow(/JAM_ALLOWED_TOKENS: entry 1 is the SHA-256 of an empty token/);
    expect(() => loadConfig({ JAM_ADMIN_TOKENS: `ops=${empty.toUpperCase()}` }, '/tmp')).toThrow(/JAM_ADMIN_TOKENS: entry 1 is the SHA-256 of an empty token/);
  });
});

describe('cliEnvironment', () => {
  it('prefers JAM_URL, falls back to the local JAM_PORT, and passes JAM_TOKEN', () => {
    const { cliEnvironment } = jest.requireActual<typeof import('./app-config')>('./app-config');
    expect(cliEnvironment({ JAM_URL: 'http://h:1', JAM_PORT: '9', JAM_TOKEN: 't' })).toEqual({ url: 'http://h:1', token: 't' });
    expect(cliEnvironment({ JAM_PORT: '18080' })).toEqual({ url: 'http://127.0.0.1:18080' });
    expect(cliEnvironment({ JAM_PORT: 'nonsense', JAM_TOKEN: '' })).toEqual({});
    expect(cliEnvironment({ JAM_DATA_DIR: '/tmp/other' })).toEqual({ dataDir: '/tmp/other' });
    expect(cliEnvironment({ JAM_ADMIN_TOKEN: 'adm', JAM_TOKEN: 't' })).toEqual({ adminToken: 'adm', token: 't' });
    expect(cliEnvironment({ JAM_ADMIN_TOKEN: '' })).toEqual({});
  });
});
