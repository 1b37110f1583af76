/**
 * The HTTP contract of the gateway (docs/architecture.md section 5): every route's method, path,
 * parameters, bodies, answers, error codes and auth scheme, in one table. The gateway's controllers
 * are declared from it (`@Endpoint(ROUTES.x)`, which also feeds the OpenAPI document), `libs/client`
 * builds its URLs from it and the client's fake server matches requests with it.
 *
 * Adding a route: one entry here and one controller method decorated with `@Endpoint` (plus a rule
 * in `test/e2e/authz-matrix.e2e-spec.ts`). WARNING: paths and codes are public API.
 */
import type { z } from 'zod';
import { GP_MAX_PACKAGE_SIZE } from '@jam/domain';
import type { ApiErrorCode } from './error-status';
import * as S from './wire.schemas';

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call a route: `bearer` = a `/jam` token (`allowed_tokens`, or an admin token from an
 * allowlisted address) unless `auth_required=false`; `admin` = an `admin_tokens` token from an
 * `admin_ip_allowlist` address; `none` = unauthenticated (health, metrics, the API description).
 */
export type AuthScheme = 'bearer' | 'admin' | 'none';

/** Names of the `{name}` parameters of a path template. */
export type PathParams<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? K | PathParams<Rest> : never;

/** A path parameter: its pattern (also the OpenAPI `pattern`) and meaning. */
export interface ParamContract {
  description: string;
  pattern: RegExp;
  example?: string;
}

/** A query parameter; each is given at most once (a repeated one is 400 `invalid_request`). */
export interface QueryContract {
  description: string;
  schema: z.ZodTypeAny;
}

/** One accepted request body, by content type: JSON with a schema, or raw bytes. */
export interface BodyContract {
  contentType: 'application/json' | 'application/octet-stream';
  description: string;
  /** JSON bodies; absent for binary ones */
  schema?: z.ZodTypeAny;
  /** bytes the server reads at most (larger bodies are 413 `payload_too_large`) */
  maxBytes?: number;
}

/** One success answer. */
export interface ResponseContract {
  status: number;
  description: string;
  /** default `application/json` */
  contentType?: 'application/json' | 'application/octet-stream' | 'text/event-stream' | 'text/plain';
  /** JSON answers */
  schema?: z.ZodTypeAny;
}

/** One route of the API. `path` is an OpenAPI path template (`/jam/packages/{hash}`). */
export interface RouteContract<P extends string = string> {
  /** unique; the OpenAPI `operationId` */
  operationId: string;
  method: HttpMethod;
  path: P;
  /** OpenAPI tag (group) */
  tag: 'preimages' | 'services' | 'packages' | 'reports' | 'admin' | 'health' | 'docs';
  summary: string;
  auth: AuthScheme;
  params: { [K in PathParams<P>]: ParamContract };
  query?: Record<string, QueryContract>;
  body?: readonly BodyContract[];
  responses: readonly ResponseContract[];
  /**
   * The codes this route answers besides those every route shares ({@link COMMON_ERRORS}) and
   * those of its auth scheme ({@link AUTH_ERRORS}); statuses follow `statusOfApiError`.
   */
  errors: readonly ApiErrorCode[];
  /** Probes and scraping: exempt from every rate limit, so they survive a flood (docs/security.md). */
  rateLimitExempt?: true;
}

/** Declares one route; checks at compile time that `params` names exactly the path's `{...}` parameters. */
function route<const P extends string>(r: RouteContract<P>): RouteContract<P> {
  return r;
}

/** Codes any route may answer: request limits (before routing), rate limits, outages, faults. */
export const COMMON_ERRORS: readonly ApiErrorCode[] = [
  'request_timeout',
  'uri_too_long',
  'header_too_large',
  'rate_limited',
  'internal',
  'dependency_unavailable',
];

/** Codes of each auth scheme's refusals (token in the query string, no or unknown token, address not allowed). */
export const AUTH_ERRORS: Record<AuthScheme, readonly ApiErrorCode[]> = {
  bearer: ['invalid_request', 'unauthorized', 'forbidden'],
  admin: ['invalid_request', 'unauthorized', 'forbidden'],
  none: [],
};

/** Every error code a route may answer: its own, its auth scheme's and the common ones (no `rate_limited` on an exempt route). */
export function errorsOf(r: RouteContract): ApiErrorCode[] {
  const common = r.rateLimitExempt ? COMMON_ERRORS.filter((c) => c !== 'rate_limited') : COMMON_ERRORS;
  return [...new Set([...r.errors, ...AUTH_ERRORS[r.auth], ...common])];
}

const HASH: ParamContract = { description: 'Blake2b-256 hash, 0x + 64 lowercase hex digits', pattern: S.HASH_PATTERN };
const PACKAGE_HASH: ParamContract = { description: 'work package hash (Blake2b-256 of its GP encoding)', pattern: S.HASH_PATTERN };
const SERVICE_ID: ParamContract = { description: 'u32 JAM service id, decimal', pattern: S.SERVICE_ID_PATTERN, example: '1' };
const PRINCIPAL: ParamContract = { description: 'principal (token owner) name', pattern: S.PRINCIPAL_PATTERN, example: 'alice' };
const LIMIT: QueryContract = { description: 'page size, 1 to 500 (default 50)', schema: S.limitQuery };
const CURSOR: QueryContract = { description: '`next_cursor` of the previous page', schema: S.stringQuery };
/** JSON bodies carry bytes as hex: twice the binary cap plus room for the field names (bytes). */
export const MAX_JSON_PACKAGE_BYTES = 2 * GP_MAX_PACKAGE_SIZE + 64 * 1024;
/** bytes read at most of a `POST /jam/services` body */
export const MAX_CREATE_SERVICE_BODY_BYTES = 64 * 1024;
/** bytes read at most of the small JSON bodies (attestations, admin) */
export const MAX_SMALL_BODY_BYTES = 4096;

/** The routes of the API, by operation id. */
export const ROUTES = {
  healthz: route({
    operationId: 'healthz',
    method: 'GET',
    path: '/healthz',
    tag: 'health',
    summary: 'Liveness: the process answers',
    auth: 'none',
    params: {},
    responses: [{ status: 200, description: 'alive', schema: S.healthSchema }],
    errors: [],
    rateLimitExempt: true,
  }),
  readyz: route({
    operationId: 'readyz',
    method: 'GET',
    path: '/readyz',
    tag: 'health',
    summary: 'Readiness: every backing store answers within 2 s (the queue check writes to Redis)',
    auth: 'none',
    params: {},
    responses: [
      { status: 200, description: 'every check ok', schema: S.readinessSchema },
      { status: 503, description: 'some check failed; `checks` names it', schema: S.readinessSchema },
    ],
    errors: [],
    rateLimitExempt: true,
  }),
  metrics: route({
    operationId: 'metrics',
    method: 'GET',
    path: '/metrics',
    tag: 'health',
    summary: 'Prometheus metrics (text exposition format); keep it off public ingress',
    auth: 'none',
    params: {},
    responses: [{ status: 200, description: 'metrics', contentType: 'text/plain' }],
    errors: [],
    rateLimitExempt: true,
  }),
  openApiDocument: route({
    operationId: 'openApiDocument',
    method: 'GET',
    path: '/jam/openapi.json',
    tag: 'docs',
    summary: 'This API description (OpenAPI 3), generated from the controllers at start',
    auth: 'none',
    params: {},
    responses: [{ status: 200, description: 'the OpenAPI document', schema: S.openApiDocumentSchema }],
    errors: [],
  }),
  apiDocs: route({
    operationId: 'apiDocs',
    method: 'GET',
    path: '/jam/docs',
    tag: 'docs',
    summary: 'Swagger UI over /jam/openapi.json, served from the installed swagger-ui-dist (no CDN)',
    auth: 'none',
    params: {},
    responses: [{ status: 200, description: 'HTML page', contentType: 'text/plain' }],
    errors: [],
  }),
  apiDocsAsset: route({
    operationId: 'apiDocsAsset',
    method: 'GET',
    path: '/jam/docs/{asset}',
    tag: 'docs',
    summary: "One of Swagger UI's script and style files",
    auth: 'none',
    params: { asset: { description: 'file name of a Swagger UI asset', pattern: /^[a-z0-9-]+\.(js|css|png)$/, example: 'swagger-ui.css' } },
    responses: [{ status: 200, description: 'the file', contentType: 'text/plain' }],
    errors: ['not_found'],
  }),

  putPreimage: route({
    operationId: 'putPreimage',
    method: 'PUT',
    path: '/jam/preimages/{hash}',
    tag: 'preimages',
    summary: 'Store raw bytes under their Blake2b-256 hash (streamed, verified)',
    auth: 'bearer',
    params: { hash: HASH },
    body: [{ contentType: 'application/octet-stream', description: 'the preimage bytes; at most `max_preimage_bytes`' }],
    responses: [
      { status: 201, description: 'stored now (under authorization: first upload by this principal)', schema: S.putPreimageAnswerSchema },
      { status: 200, description: 'already stored', schema: S.putPreimageAnswerSchema },
    ],
    errors: ['invalid_hex', 'hash_mismatch', 'payload_too_large', 'storage_quota_exceeded', 'quota_exceeded'],
  }),
  getPreimage: route({
    operationId: 'getPreimage',
    method: 'GET',
    path: '/jam/preimages/{hash}',
    tag: 'preimages',
    summary: 'The bytes, verified while streamed (a corrupt blob aborts the response)',
    auth: 'bearer',
    params: { hash: HASH },
    responses: [{ status: 200, description: 'the bytes; ETag = hash', contentType: 'application/octet-stream' }],
    errors: ['invalid_hex', 'not_found'],
  }),
  headPreimage: route({
    operationId: 'headPreimage',
    method: 'HEAD',
    path: '/jam/preimages/{hash}',
    tag: 'preimages',
    summary: 'Whether the caller may read the preimage; Content-Length = its length',
    auth: 'bearer',
    params: { hash: HASH },
    responses: [{ status: 200, description: 'stored and readable', contentType: 'application/octet-stream' }],
    errors: ['invalid_hex', 'not_found'],
  }),
  preimageMeta: route({
    operationId: 'preimageMeta',
    method: 'GET',
    path: '/jam/preimages/{hash}/meta',
    tag: 'preimages',
    summary: 'Length, reference count, storage tier and times of a preimage',
    auth: 'bearer',
    params: { hash: HASH },
    responses: [{ status: 200, description: 'the metadata', schema: S.preimageMetaSchema }],
    errors: ['invalid_hex', 'not_found'],
  }),

  createService: route({
    operationId: 'createService',
    method: 'POST',
    path: '/jam/services',
    tag: 'services',
    summary: 'Register a service whose code is a stored preimage that passes the registration check',
    auth: 'bearer',
    params: {},
    body: [
      {
        contentType: 'application/json',
        description: 'the code hash, delegates and minimum gas',
        schema: S.createServiceBodySchema,
        maxBytes: MAX_CREATE_SERVICE_BODY_BYTES,
      },
    ],
    responses: [{ status: 201, description: 'registered, owned by the caller', schema: S.serviceSchema }],
    errors: ['invalid_json', 'invalid_request', 'payload_too_large', 'unknown_preimage', 'invalid_code', 'rate_limited'],
  }),
  listServices: route({
    operationId: 'listServices',
    method: 'GET',
    path: '/jam/services',
    tag: 'services',
    summary: 'Services the caller may use, by id, keyset-paged',
    auth: 'bearer',
    params: {},
    query: { limit: LIMIT, cursor: CURSOR },
    responses: [{ status: 200, description: 'one page', schema: S.pageSchema(S.serviceSchema) }],
    errors: ['invalid_request'],
  }),
  getService: route({
    operationId: 'getService',
    method: 'GET',
    path: '/jam/services/{id}',
    tag: 'services',
    summary: 'One service',
    auth: 'bearer',
    params: { id: SERVICE_ID },
    responses: [{ status: 200, description: 'the service', schema: S.serviceSchema }],
    errors: ['invalid_request', 'not_found'],
  }),
  getStorage: route({
    operationId: 'getStorage',
    method: 'GET',
    path: '/jam/services/{id}/storage/{key}',
    tag: 'services',
    summary: "One value of a service's storage",
    auth: 'bearer',
    params: {
      id: SERVICE_ID,
      key: { description: 'storage key, hex (0x optional), 0 to 256 bytes; `0x` alone is the empty key', pattern: /^(0x)?([0-9a-fA-F]{2}){0,256}$/ },
    },
    responses: [{ status: 200, description: 'the value', schema: S.storageEntrySchema }],
    errors: ['invalid_request', 'invalid_hex', 'not_found'],
  }),
  listServicePackages: route({
    operationId: 'listServicePackages',
    method: 'GET',
    path: '/jam/services/{id}/packages',
    tag: 'services',
    summary: 'Packages that touch this service, newest first, keyset-paged',
    auth: 'bearer',
    params: { id: SERVICE_ID },
    query: { status: { description: 'only packages in this status', schema: S.statusQuery }, limit: LIMIT, cursor: CURSOR },
    responses: [{ status: 200, description: 'one page', schema: S.pageSchema(S.packageInfoSchema) }],
    errors: ['invalid_request', 'not_found'],
  }),

  submitPackage: route({
    operationId: 'submitPackage',
    method: 'POST',
    path: '/jam/packages',
    tag: 'packages',
    summary: 'Submit a WorkPackage (GP JSON or GP binary); idempotent per package hash',
    auth: 'bearer',
    params: {},
    query: { dry_run: { description: '`true`/`1`: validate only, store nothing (given once; `false`/`0` = submit)', schema: S.dryRunQuery } },
    body: [
      {
        contentType: 'application/json',
        description: 'GP JSON WorkPackage (docs/package-json.md)',
        schema: S.workPackageJsonSchema,
        maxBytes: MAX_JSON_PACKAGE_BYTES,
      },
      { contentType: 'application/octet-stream', description: 'GP-encoded WorkPackage (GP 0.7.2 appendix C)', maxBytes: GP_MAX_PACKAGE_SIZE },
    ],
    responses: [
      { status: 202, description: 'accepted (or already known): its current status', schema: S.submitPackageAnswerSchema },
      { status: 200, description: 'dry run: the decoded package and its problems; nothing stored', schema: S.dryRunAnswerSchema },
    ],
    errors: ['invalid_request', 'invalid_json', 'invalid_encoding', 'payload_too_large', 'invalid_package', 'quota_exceeded'],
  }),
  getPackage: route({
    operationId: 'getPackage',
    method: 'GET',
    path: '/jam/packages/{hash}',
    tag: 'packages',
    summary: 'Status of a package with times, report hash and failure',
    auth: 'bearer',
    params: { hash: PACKAGE_HASH },
    responses: [{ status: 200, description: 'the package', schema: S.packageInfoSchema }],
    errors: ['invalid_hex', 'not_found'],
  }),
  retryPackage: route({
    operationId: 'retryPackage',
    method: 'POST',
    path: '/jam/packages/{hash}/retry',
    tag: 'packages',
    summary: 'Run a failed package again (retryable failures, at most `max_package_retries` times); audited',
    auth: 'bearer',
    params: { hash: PACKAGE_HASH },
    responses: [{ status: 202, description: 'the package, back to `pending` or `attested`', schema: S.packageInfoSchema }],
    errors: ['invalid_hex', 'not_found', 'conflict', 'not_retryable', 'retry_limit_reached'],
  }),
  packageEvents: route({
    operationId: 'packageEvents',
    method: 'GET',
    path: '/jam/packages/{hash}/events',
    tag: 'packages',
    summary: 'Server-sent events of the status (`event: status`, data = the package JSON) until a terminal status',
    auth: 'bearer',
    params: { hash: PACKAGE_HASH },
    responses: [{ status: 200, description: 'the event stream; a comment line every 15 s', contentType: 'text/event-stream' }],
    errors: ['invalid_hex', 'not_found', 'rate_limited'],
  }),

  submitAttestation: route({
    operationId: 'submitAttestation',
    method: 'POST',
    path: '/jam/reports/{reportHash}/attestations',
    tag: 'reports',
    summary: "An attester's Ed25519 guarantee signature over `jam_guarantee ++ report hash`",
    auth: 'bearer',
    params: { reportHash: { description: 'work report hash', pattern: S.HASH_PATTERN } },
    body: [{ contentType: 'application/json', description: 'attester index and signature', schema: S.attestationBodySchema, maxBytes: MAX_SMALL_BODY_BYTES }],
    responses: [{ status: 202, description: 'verified and queued for the attestation service', schema: S.attestationAnswerSchema }],
    errors: ['invalid_hex', 'invalid_json', 'invalid_request', 'payload_too_large', 'not_found', 'unknown_attester', 'invalid_signature'],
  }),
  getReport: route({
    operationId: 'getReport',
    method: 'GET',
    path: '/jam/reports/{packageHash}',
    tag: 'reports',
    summary: "The package's WorkReport (GP JSON) with its attestations and verdict",
    auth: 'bearer',
    params: { packageHash: PACKAGE_HASH },
    responses: [{ status: 200, description: 'the report', schema: S.reportInfoSchema }],
    errors: ['invalid_hex', 'not_found'],
  }),

  listAttesters: route({
    operationId: 'listAttesters',
    method: 'GET',
    path: '/jam/attesters',
    tag: 'reports',
    summary: 'The attester set: index and raw Ed25519 public key of each attester, and the threshold; guarantees verify under these keys',
    auth: 'bearer',
    params: {},
    responses: [{ status: 200, description: 'the attester set', schema: S.attesterSetSchema }],
    errors: [],
  }),

  addDelegate: route({
    operationId: 'addDelegate',
    method: 'PUT',
    path: '/admin/services/{id}/delegates/{principal}',
    tag: 'admin',
    summary: 'Add a delegate to a service (idempotent)',
    auth: 'admin',
    params: { id: SERVICE_ID, principal: PRINCIPAL },
    responses: [{ status: 200, description: 'the service afterwards', schema: S.serviceSchema }],
    errors: ['not_found'],
  }),
  removeDelegate: route({
    operationId: 'removeDelegate',
    method: 'DELETE',
    path: '/admin/services/{id}/delegates/{principal}',
    tag: 'admin',
    summary: 'Remove a delegate from a service (idempotent)',
    auth: 'admin',
    params: { id: SERVICE_ID, principal: PRINCIPAL },
    responses: [{ status: 200, description: 'the service afterwards', schema: S.serviceSchema }],
    errors: ['not_found'],
  }),
  listQuotas: route({
    operationId: 'listQuotas',
    method: 'GET',
    path: '/admin/quotas',
    tag: 'admin',
    summary: 'Per-principal quota overrides, in principal order, and the defaults',
    auth: 'admin',
    params: {},
    query: { limit: LIMIT, cursor: { description: 'the last principal of the previous page', schema: S.stringQuery } },
    responses: [{ status: 200, description: 'one page', schema: S.quotaPageSchema }],
    errors: [],
  }),
  setQuota: route({
    operationId: 'setQuota',
    method: 'PUT',
    path: '/admin/quotas/{principal}',
    tag: 'admin',
    summary: "Set one principal's overrides (fields left out keep their value; null = the global setting)",
    auth: 'admin',
    params: { principal: PRINCIPAL },
    body: [{ contentType: 'application/json', description: 'overrides to set', schema: S.quotaBodySchema, maxBytes: MAX_SMALL_BODY_BYTES }],
    responses: [{ status: 200, description: 'the override afterwards', schema: S.quotaOverrideSchema }],
    errors: ['invalid_json', 'payload_too_large'],
  }),
  removeQuota: route({
    operationId: 'removeQuota',
    method: 'DELETE',
    path: '/admin/quotas/{principal}',
    tag: 'admin',
    summary: "Remove a principal's override",
    auth: 'admin',
    params: { principal: PRINCIPAL },
    responses: [{ status: 200, description: '`removed` false when there was none', schema: S.quotaRemovedSchema }],
    errors: [],
  }),
  listDisputes: route({
    operationId: 'listDisputes',
    method: 'GET',
    path: '/admin/disputes',
    tag: 'admin',
    summary: 'Disputed packages, newest first, with the conflicting reports and their signer counts',
    auth: 'admin',
    params: {},
    query: { limit: LIMIT, cursor: CURSOR },
    responses: [{ status: 200, description: 'one page', schema: S.disputePageSchema }],
    errors: [],
  }),
  resolveDispute: route({
    operationId: 'resolveDispute',
    method: 'POST',
    path: '/admin/disputes/{packageHash}/resolve',
    tag: 'admin',
    summary: 'Accept one report (the package goes on to accumulate) or reject the package (`dispute_rejected`)',
    auth: 'admin',
    params: { packageHash: PACKAGE_HASH },
    body: [{ contentType: 'application/json', description: 'the decision', schema: S.resolveDisputeBodySchema, maxBytes: MAX_SMALL_BODY_BYTES }],
    responses: [{ status: 200, description: 'the package afterwards', schema: S.packageInfoSchema }],
    errors: ['invalid_hex', 'invalid_json', 'payload_too_large', 'not_found', 'conflict'],
  }),
  adminRetryPackage: route({
    operationId: 'adminRetryPackage',
    method: 'POST',
    path: '/admin/packages/{packageHash}/retry',
    tag: 'admin',
    summary: 'Retry any failed package, under the rules of POST /jam/packages/{hash}/retry',
    auth: 'admin',
    params: { packageHash: PACKAGE_HASH },
    responses: [{ status: 202, description: 'the package, back to `pending` or `attested`', schema: S.packageInfoSchema }],
    errors: ['invalid_hex', 'not_found', 'conflict', 'not_retryable', 'retry_limit_reached'],
  }),
  listAudit: route({
    operationId: 'listAudit',
    method: 'GET',
    path: '/admin/audit',
    tag: 'admin',
    summary: 'The audit log, newest first',
    auth: 'admin',
    params: {},
    query: { limit: LIMIT, cursor: CURSOR, action: { description: 'only this action (`quota.set`, `package.retry`, ...)', schema: S.stringQuery } },
    responses: [{ status: 200, description: 'one page', schema: S.pageSchema(S.auditEntrySchema) }],
    errors: [],
  }),
} as const satisfies Record<string, RouteContract>;

/** Paths no rate limit applies to (`rateLimitExempt` routes): the gateway's rate-limit middleware skips them. */
export const RATE_LIMIT_EXEMPT_PATHS: ReadonlySet<string> = new Set(
  Object.values(ROUTES as Record<string, RouteContract>)
    .filter((r) => r.rateLimitExempt)
    .map((r) => r.path),
);

/** Operation ids of the API. */
export type RouteName = keyof typeof ROUTES;

/**
 * The URL path of a route with its parameters filled in (each percent-encoded).
 * @throws Error when a parameter is missing
 */
export function routePath<P extends string>(r: RouteContract<P>, params: { [K in PathParams<P>]: string | number }): string {
  return r.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = (params as Record<string, string | number | undefined>)[name];
    if (v === undefined) throw new Error(`${r.operationId}: missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

/** The route's path as Nest/Express declare it (`jam/packages/:hash`, no leading slash). */
export function nestPath(r: RouteContract): string {
  return r.path.slice(1).replace(/\{(\w+)\}/g, ':$1');
}

/**
 * The route a request goes to, with its decoded path parameters; every parameter must match its
 * pattern (so `/jam/packages/nothex` matches nothing). `HEAD` also matches a `GET` route when no
 * `HEAD` route does, as Express does. Used by the client's fake server.
 */
export function matchRoute(
  method: string,
  pathname: string,
  routes: readonly RouteContract[] = Object.values(ROUTES),
): { route: RouteContract; params: Record<string, string> } | undefined {
  const m = method.toUpperCase();
  const candidates = [...routes.filter((r) => r.method === m), ...(m === 'HEAD' ? routes.filter((r) => r.method === 'GET') : [])];
  for (const r of candidates) {
    const names: string[] = [];
    const source = r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_x, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const found = new RegExp(`^${source}$`).exec(pathname);
    if (!found) continue;
    const params: Record<string, string> = {};
    let ok = true;
    names.forEach((name, i) => {
      const value = decodeURIComponent(found[i + 1]!);
      const pattern = (r.params as Record<string, ParamContract>)[name]!.pattern;
      if (!pattern.test(value)) ok = false;
      params[name] = value;
    });
    if (ok) return { route: r, params };
  }
  return undefined;
}

/** Version of this HTTP contract (the OpenAPI `info.version`); raised when a route or shape changes incompatibly. */
export const API_VERSION = '1.0.0';
