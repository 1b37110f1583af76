/**
 * The OpenAPI document (issue 10 item 1): generated from the controllers, it names every route of
 * the live Express router (a route added without an `@Endpoint` contract entry fails here), is
 * valid OpenAPI 3 (checked by @apidevtools/swagger-parser), documents each route's error codes and
 * auth scheme as the HTTP contract (`@jam/http-contract`) declares them, and is served, with
 * Swagger UI from the installed package, by a real embedded server process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { INestApplication } from '@nestjs/common';
import { blake2b256, initHashing, toHex } from '@jam/domain';
import {
  ROUTES,
  errorBodySchema,
  errorsOf,
  healthSchema,
  pageSchema,
  preimageMetaSchema,
  putPreimageAnswerSchema,
  readinessSchema,
  routePath,
  serviceSchema,
  statusOfApiError,
  type RouteContract,
} from '@jam/http-contract';
import { GatewayModule } from '../../apps/gateway/src/gateway.module';
import type { GatewayDeps } from '../../apps/gateway/src/gateway.deps';
import { buildOpenApiDocument } from '../../apps/gateway/src/openapi.document';
import { JamProcess, PROCESS_TEST_TIMEOUT_MS, api, freePort } from '../support/jam-server';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

/**
 * Left out of the document: the OPTIONS catch-alls (`OptionsController`) hold OPTIONS to the GET
 * rules, they are not operations; the queue board (`QueueBoardController`) is Bull Board's HTML UI
 * and its own JSON API for that page (README "Queue board"), not part of the JAM API.
 */
const UNDOCUMENTED = ['OPTIONS /jam', 'OPTIONS /jam/*path', 'OPTIONS /admin', 'OPTIONS /admin/*path', 'GET /admin/queues', 'GET /admin/queues/*path'];

type Operation = { operationId?: string; security?: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, { schema?: any }> }> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components?: { securitySchemes?: Record<string, unknown> } };

/** `METHOD /path/{param}` of every route the live Express router of a built gateway holds. */
function routerRoutes(app: INestApplication): string[] {
  const router = (app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string | string[]; methods: Record<string, boolean> } }[] } })
    .router;
  const out: string[] = [];
  for (const layer of router.stack) {
    if (!layer.route) continue;
    for (const p of [layer.route.path].flat()) for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${p.replace(/:(\w+)/g, '{$1}')}`);
  }
  return [...new Set(out)].sort();
}

describe('OpenAPI document generated from the controllers', () => {
  let app: INestApplication;
  let doc: Doc;
  let routes: string[];

  beforeAll(async () => {
    const stub = { tokenDigests: new Map(), adminTokenDigests: new Map(), trustedProxies: [], adminIpAllowlist: [] } as unknown as GatewayDeps;
    app = await NestFactory.create(GatewayModule.forRoot(stub), new ExpressAdapter(), { logger: false, bodyParser: false });
    await app.init();
    routes = routerRoutes(app);
    doc = buildOpenApiDocument(app) as unknown as Doc;
  });

  afterAll(async () => {
    await app?.close();
  });

  const documented = () => Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));

  it('documents every route of the live router, and nothing the router does not serve', () => {
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.filter((r) => !UNDOCUMENTED.includes(r) && !documented().includes(r))).toEqual([]);
    expect(documented().filter((r) => !routes.includes(r))).toEqual([]);
    // The exclusions are real routes (so this list cannot go stale silently).
    expect(UNDOCUMENTED.filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('serves exactly the routes of the HTTP contract', () => {
    const contract = Object.values(ROUTES as Record<string, RouteContract>).map((r) => `${r.method} ${r.path}`);
    expect(contract.filter((r) => !routes.includes(r))).toEqual([]);
    expect(routes.filter((r) => !UNDOCUMENTED.includes(r) && !contract.includes(r))).toEqual([]);
  });

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('declares the bearer and admin auth schemes and puts each route under its own', () => {
    expect(Object.keys(doc.components?.securitySchemes ?? {}).sort()).toEqual(['admin', 'bearer']);
    for (const r of Object.values(ROUTES as Record<string, RouteContract>)) {
      const op = doc.paths[r.path]![r.method.toLowerCase()]!;
      expect({ route: r.operationId, security: op.security ?? [] }).toEqual({ route: r.operationId, security: r.auth === 'none' ? [] : [{ [r.auth]: [] }] });
      expect(op.operationId).toBe(r.operationId);
    }
  });

  it('documents every error code of every route under its HTTP status, with the error shape', () => {
    for (const r of Object.values(ROUTES as Record<string, RouteContract>)) {
      const op = doc.paths[r.path]![r.method.toLowerCase()]!;
      for (const code of errorsOf(r)) {
        const response = op.responses[String(statusOfApiError(code))];
        const content = response?.content?.['application/json']?.schema;
        const schema = content?.oneOf?.find((s: any) => s.properties?.error) ?? content;
        expect({ route: r.operationId, code, documented: schema?.properties?.error?.properties?.code?.enum?.includes(code) ?? false }).toEqual({
          route: r.operationId,
          code,
          documented: true,
        });
      }
    }
    // Spot checks of the generated schemas: a submission's body types, an answer's fields.
    const submit = doc.paths['/jam/packages']!['post']! as Operation & { requestBody: { content: Record<string, { schema: any }> } };
    expect(Object.keys(submit.requestBody.content).sort()).toEqual(['application/json', 'application/octet-stream']);
    expect(submit.requestBody.content['application/json']!.schema.properties.items.type).toBe('array');
    expect(submit.responses['202']!.content!['application/json']!.schema.properties.status.enum).toContain('accumulated');
    expect(submit.responses['422']!.content!['application/json']!.schema.properties.error.properties.code.enum).toContain('invalid_package');
  });
});

describe('API description served by a real embedded server', () => {
  let dataDir: string;
  let base: string;
  let server: JamProcess;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-e2e-openapi-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await JamProcess.start({ JAM_DATA_DIR: dataDir, JAM_PORT: String(port) }, { port, timeoutMs: 90_000 });
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /jam/openapi.json without a token, and it names the routes', async () => {
    const r = await api(base, undefined, 'GET', '/jam/openapi.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json.openapi).toMatch(/^3\./);
    expect(Object.keys(r.json.paths)).toEqual(
      expect.arrayContaining(['/jam/packages', '/jam/preimages/{hash}', '/admin/disputes/{packageHash}/resolve', '/healthz']),
    );
  });

  it('serves Swagger UI at /jam/docs from the installed package (no CDN)', async () => {
    const page = await api(base, undefined, 'GET', '/jam/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) {
      expect(s.startsWith('/jam/docs/')).toBe(true);
      const asset = await api(base, undefined, 'GET', s);
      expect({ s, status: asset.status, bytes: asset.text.length > 0 }).toEqual({ s, status: 200, bytes: true });
    }
    const init = await api(base, undefined, 'GET', '/jam/docs/swagger-initializer.js');
    expect(init.text).toContain("url: '/jam/openapi.json'");
    const bundle = fs.readFileSync(path.join(getAbsoluteFSPath(), 'swagger-ui-bundle.js'), 'utf8');
    expect((await api(base, undefined, 'GET', '/jam/docs/swagger-ui-bundle.js')).text).toBe(bundle);
  });

  it('answers as the schemas of the contract describe (real answers parsed with them)', async () => {
    await initHashing();
    const token = fs.readFileSync(path.join(dataDir, 'dev-token'), 'utf8').trim();
    const bytes = new TextEncoder().encode(`openapi contract ${Date.now()}`);
    const hash = toHex(blake2b256(bytes));
    const put = await api(base, token, 'PUT', routePath(ROUTES.putPreimage, { hash }), bytes);
    expect(put.status).toBe(201);
    expect(putPreimageAnswerSchema.strict().parse(put.json)).toEqual({ hash, length: bytes.length });
    const meta = await api(base, token, 'GET', routePath(ROUTES.preimageMeta, { hash }));
    expect(preimageMetaSchema.strict().parse(meta.json).hash).toBe(hash);
    const services = await api(base, token, 'GET', `${routePath(ROUTES.listServices, {})}?limit=5`);
    pageSchema(serviceSchema.strict()).strict().parse(services.json);
    expect(healthSchema.strict().parse((await api(base, undefined, 'GET', routePath(ROUTES.healthz, {}))).json)).toEqual({ status: 'ok' });
    expect(readinessSchema.strict().parse((await api(base, undefined, 'GET', routePath(ROUTES.readyz, {}))).json).status).toBe('ok');
    // A refusal: the error shape, with a code the route documents at that status.
    const missing = await api(base, token, 'GET', routePath(ROUTES.getPackage, { hash: `0x${'00'.repeat(32)}` }));
    expect(missing.status).toBe(statusOfApiError('not_found'));
    expect(errorBodySchema.parse(missing.json).error.code).toBe('not_found');
    expect(errorsOf(ROUTES.getPackage)).toContain('not_found');
  });

  it('answers an unknown docs asset with 404 not_found, never a file outside the package', async () => {
    for (const p of ['/jam/docs/package.json', '/jam/docs/..%2F..%2Fpackage.json', '/jam/docs/index.html']) {
      const r = await api(base, undefined, 'GET', p);
      expect({ p, status: r.status, code: r.json?.error?.code }).toEqual({ p, status: 404, code: 'not_found' });
    }
  });
});
