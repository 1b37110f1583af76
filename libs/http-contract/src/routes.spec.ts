import { DomainError } from '@jam/domain';
import { EDGE_ERROR_CODES, statusOf, statusOfApiError } from './error-status';
import { AUTH_ERRORS, COMMON_ERRORS, RATE_LIMIT_EXEMPT_PATHS, ROUTES, errorsOf, matchRoute, nestPath, routePath, type RouteContract } from './routes';
import { createServiceBodySchema, errorBodySchema, quotaBodySchema, resolveDisputeBodySchema } from './wire.schemas';

const all = Object.values(ROUTES as Record<string, RouteContract>);
const HASH = `0x${'ab'.repeat(32)}`;

describe('HTTP contract: the route table', () => {
  it('has unique operation ids (the key) and unique method + path pairs', () => {
    for (const [key, r] of Object.entries(ROUTES as Record<string, RouteContract>)) expect(r.operationId).toBe(key);
    const pairs = all.map((r) => `${r.method} ${r.path}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('declares exactly the {placeholders} of each path as params, each with an anchored pattern', () => {
    for (const r of all) {
      const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect({ route: r.operationId, params: Object.keys(r.params).sort() }).toEqual({ route: r.operationId, params: [...names].sort() });
      for (const p of Object.values(r.params as Record<string, { pattern: RegExp }>)) expect(p.pattern.source).toMatch(/^\^.*\$$/);
    }
  });

  it('puts /jam routes under bearer auth, /admin under admin, and only health and the API description under none', () => {
    for (const r of all) {
      const want = r.path.startsWith('/admin/') ? 'admin' : r.tag === 'health' || r.tag === 'docs' ? 'none' : 'bearer';
      expect({ route: r.operationId, auth: r.auth }).toEqual({ route: r.operationId, auth: want });
    }
  });

  it('fills path parameters, percent-encoded, and refuses a missing one', () => {
    expect(routePath(ROUTES.getStorage, { id: 7, key: '0x776f726473' })).toBe('/jam/services/7/storage/0x776f726473');
    expect(routePath(ROUTES.addDelegate, { id: 1, principal: 'a b/c' })).toBe('/admin/services/1/delegates/a%20b%2Fc');
    expect(() => routePath(ROUTES.getPackage, {} as { hash: string })).toThrow('getPackage: missing path parameter hash');
    expect(nestPath(ROUTES.getStorage)).toBe('jam/services/:id/storage/:key');
  });

  it('matches requests to routes by method, path and parameter pattern', () => {
    expect(matchRoute('GET', `/jam/packages/${HASH}`)).toEqual({ route: ROUTES.getPackage, params: { hash: HASH } });
    expect(matchRoute('get', `/jam/packages/${HASH}/events`)?.route.operationId).toBe('packageEvents');
    expect(matchRoute('POST', `/jam/reports/${HASH}/attestations`)?.params).toEqual({ reportHash: HASH });
    expect(matchRoute('GET', `/jam/reports/${HASH}`)?.params).toEqual({ packageHash: HASH });
    expect(matchRoute('HEAD', `/jam/preimages/${HASH}`)?.route.operationId).toBe('headPreimage');
    // HEAD falls back to a GET route, as in Express.
    expect(matchRoute('HEAD', `/jam/preimages/${HASH}/meta`)?.route.operationId).toBe('preimageMeta');
    expect(matchRoute('PUT', '/admin/quotas/alice')?.route.operationId).toBe('setQuota');
    // A parameter that fails its pattern matches nothing.
    expect(matchRoute('GET', '/jam/packages/0xNOTHEX')).toBeUndefined();
    expect(matchRoute('GET', '/jam/services/abc')).toBeUndefined();
    expect(matchRoute('PUT', '/admin/quotas/bad%20name')).toBeUndefined();
    expect(matchRoute('PATCH', '/jam/services')).toBeUndefined();
    expect(matchRoute('GET', '/jam/docs/../../etc')).toBeUndefined();
  });
});

describe('HTTP contract: error codes', () => {
  it('maps every domain code through statusOf and every edge code to its fixed status', () => {
    expect(statusOfApiError('hash_mismatch')).toBe(422);
    expect(statusOfApiError('dependency_unavailable')).toBe(503);
    for (const [code, status] of Object.entries(EDGE_ERROR_CODES)) expect(statusOfApiError(code as keyof typeof EDGE_ERROR_CODES)).toBe(status);
    expect(statusOf(new DomainError('not_found', 'x').code)).toBe(404);
  });

  it('gives each route its own codes plus the auth and common ones, once each', () => {
    const codes = errorsOf(ROUTES.putPreimage);
    expect(codes).toEqual(expect.arrayContaining(['hash_mismatch', 'unauthorized', 'forbidden', ...COMMON_ERRORS]));
    expect(new Set(codes).size).toBe(codes.length);
    // Probes are exempt from rate limits, so they never answer rate_limited.
    expect(errorsOf(ROUTES.healthz)).toEqual(COMMON_ERRORS.filter((c) => c !== 'rate_limited'));
    expect([...RATE_LIMIT_EXEMPT_PATHS].sort()).toEqual(['/healthz', '/metrics', '/readyz']);
    expect(AUTH_ERRORS.admin).toContain('unauthorized');
  });
});

describe('HTTP contract: body schemas', () => {
  it('parses a service registration with defaults and gas as BigInt, and refuses unknown fields', () => {
    expect(createServiceBodySchema.parse({ code_hash: HASH })).toEqual({ code_hash: HASH, delegates: [], min_item_gas: 0n, min_memo_gas: 0n });
    expect(createServiceBodySchema.parse({ code_hash: HASH, min_item_gas: '18446744073709551615' }).min_item_gas).toBe(18446744073709551615n);
    expect(createServiceBodySchema.safeParse({ code_hash: HASH, owner: 'x' }).success).toBe(false);
    expect(createServiceBodySchema.safeParse({ code_hash: HASH.toUpperCase() }).success).toBe(false);
  });

  it('requires at least one quota field and a known dispute decision', () => {
    expect(quotaBodySchema.safeParse({}).success).toBe(false);
    expect(quotaBodySchema.parse({ max_pending_packages: null })).toEqual({ max_pending_packages: null });
    expect(resolveDisputeBodySchema.safeParse({ decision: 'accept' }).success).toBe(false);
    expect(resolveDisputeBodySchema.parse({ decision: 'reject' })).toEqual({ decision: 'reject' });
  });

  it('describes the error shape every refusal uses', () => {
    expect(errorBodySchema.safeParse({ error: { code: 'not_found', message: 'no package' } }).success).toBe(true);
    expect(errorBodySchema.safeParse({ error: { code: 'not_found' } }).success).toBe(false);
  });
});
