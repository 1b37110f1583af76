/**
 * A small in-process HTTP server speaking the gateway's documented API shapes (docs/architecture.md
 * section 5), for unit tests of the client and the CLI. Not exported from the lib's index.
 *
 * `startFakeServer(handler)` gives full control per request; `fakeJam()` is a ready handler that
 * stores preimages, services and packages in memory, moves a package one status forward per poll,
 * and "accumulates" word-count storage with its own word splitter (a second implementation, so a
 * test comparing it with the CLI's reference function checks something).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  blake2b256,
  decodeWorkPackage,
  guaranteeMessage,
  initHashing,
  isFinishedPackageStatus,
  packageHash,
  parseJamJson,
  stringifyJamJson,
  toHex,
  workPackageFromJson,
  workPackageToJson,
  type WorkPackage,
} from '@jam/domain';
import { matchRoute, statusOfApiError, type ApiErrorCode, type RouteName } from '@jam/http-contract';
import { PACKAGE_STATUSES, type PackageInfo, type PackageStatus, type Service } from '../jam-client.types';

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Answers one request; `req.body` is read before the call unless `readBody` returns false. */
export type FakeHandler = (req: FakeRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeServer {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 (random port). `readBody(req)` false leaves the body unread (early answers). */
export async function startFakeServer(handler: FakeHandler, readBody: (method: string, url: URL) => boolean = () => true): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    const done = (): void => {
      const fr: FakeRequest = { method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(fr);
      Promise.resolve(handler(fr, res)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: String(err) } });
        else res.destroy();
      });
    };
    if (!readBody(req.method ?? 'GET', url)) return done();
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, details?: Record<string, unknown>): void {
  sendJson(res, status, { error: { code, message, ...(details ? { details } : {}) } });
}

/** The gateway's error answer for a stable code, at the status the HTTP contract gives it. */
export function sendApiError(res: ServerResponse, code: ApiErrorCode, message: string, details?: Record<string, unknown>): void {
  sendError(res, statusOfApiError(code), code, message, details);
}

export interface FakeJamOptions {
  /** when set, every `/jam` request must carry `Authorization: Bearer <token>` */
  token?: string;
  /** packages whose first payload contains this text end `failed` */
  failMarker?: string;
  /** added to the `words` total on every accumulation (simulates a broken pipeline) */
  wordsSkew?: bigint;
  /** `GET /jam/packages/{hash}/events` answers 404 `not_found` "no route", as a gateway without the stream would */
  noEvents?: boolean;
  /** the status stream's connection is reset after this many status events (a broken stream) */
  eventsBreakAfter?: number;
}

interface FakePackage {
  info: PackageInfo;
  pkg: WorkPackage;
  reportHash: string;
}

/** In-memory state of `fakeJam`, exposed for assertions. */
export interface FakeJamState {
  preimages: Map<string, Buffer>;
  services: Map<number, Service>;
  storage: Map<string, Buffer>;
  packages: Map<string, FakePackage>;
}

/** Words by splitting on ASCII whitespace with a regex over a latin1 view (independent of the CLI's loop). */
function fakeCountWords(payload: Uint8Array): number {
  return Buffer.from(payload)
    .toString('latin1')
    .split(/[ \t\n\v\f\r]+/)
    .filter((w) => w !== '').length;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

/** A handler emulating the whole gateway API over in-memory state; see the module comment. */
export function fakeJam(options: FakeJamOptions = {}): { handler: FakeHandler; state: FakeJamState } {
  const state: FakeJamState = { preimages: new Map(), services: new Map(), storage: new Map(), packages: new Map() };
  const keys: { publicKey: KeyObject; privateKey: KeyObject }[] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')];
  let nextId = 1000;
  const now = (): string => new Date().toISOString();

  const accumulate = (p: FakePackage): void => {
    for (const item of p.pkg.items) {
      const wKey = `${item.service}:0x776f726473`;
      const iKey = `${item.service}:0x6974656d73`;
      const words = (state.storage.get(wKey)?.readBigUInt64LE() ?? 0n) + BigInt(fakeCountWords(item.payload)) + (options.wordsSkew ?? 0n);
      const items = (state.storage.get(iKey)?.readBigUInt64LE() ?? 0n) + 1n;
      state.storage.set(wKey, u64(words));
      state.storage.set(iKey, u64(items));
    }
  };

  const handler: FakeHandler = async (req, res) => {
    await initHashing();
    const p = req.url.pathname;
    // Routes, their parameters and error statuses come from the HTTP contract the gateway is declared from.
    const matched = matchRoute(req.method, p);
    const route = matched?.route.operationId as RouteName | undefined;
    const params = matched?.params ?? {};
    if (route === 'healthz') return sendJson(res, 200, { status: 'ok' });
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return sendApiError(res, 'unauthorized', 'missing or unknown bearer token');
    }
    switch (route) {
      case 'putPreimage': {
        const hash = params['hash']!;
        const got = toHex(blake2b256(req.body));
        if (got !== hash) return sendApiError(res, 'hash_mismatch', `body hashes to ${got}`, { expected: hash, actual: got });
        const existed = state.preimages.has(hash);
        state.preimages.set(hash, req.body);
        return sendJson(res, existed ? 200 : 201, { hash, length: req.body.length });
      }
      case 'getPreimage':
      case 'headPreimage':
      case 'preimageMeta': {
        const hash = params['hash']!;
        const bytes = state.preimages.get(hash);
        if (!bytes) return sendApiError(res, 'not_found', `no preimage ${hash}`);
        if (route === 'preimageMeta') return sendJson(res, 200, { hash, length: bytes.length, refcount: 1, storage_tier: 'database', created_at: now() });
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(bytes);
      }
      case 'createService': {
        const body = JSON.parse(req.body.toString('utf8')) as { code_hash: string; delegates?: string[] };
        if (!state.preimages.has(body.code_hash)) return sendApiError(res, 'unknown_preimage', `no preimage ${body.code_hash}`);
        const s: Service = {
          id: nextId++,
          code_hash: body.code_hash,
          owner: 'tok_fake',
          delegates: body.delegates ?? [],
          min_item_gas: 0,
          min_memo_gas: 0,
          created_at: now(),
        };
        state.services.set(s.id, s);
        return sendJson(res, 201, s);
      }
      case 'listServices':
        return sendJson(res, 200, { items: [...state.services.values()], next_cursor: null });
      case 'getService':
      case 'getStorage':
      case 'listServicePackages': {
        const id = Number(params['id']);
        const s = state.services.get(id);
        if (!s) return sendApiError(res, 'not_found', `no service ${id}`);
        if (route === 'getStorage') {
          const key = params['key']!;
          const v = state.storage.get(`${id}:${key}`);
          if (!v) return sendApiError(res, 'not_found', `no storage key ${key}`);
          return sendJson(res, 200, { service_id: id, key, value: toHex(v) });
        }
        if (route === 'listServicePackages') {
          const status = req.url.searchParams.get('status');
          const items = [...state.packages.values()].map((x) => x.info).filter((i) => i.service_ids.includes(id) && (!status || i.status === status));
          return sendJson(res, 200, { items, next_cursor: null });
        }
        return sendJson(res, 200, s);
      }
      case 'submitPackage': {
        let pkg: WorkPackage;
        try {
          pkg =
            req.headers['content-type'] === 'application/octet-stream'
              ? decodeWorkPackage(new Uint8Array(req.body))
              : workPackageFromJson(parseJamJson(req.body.toString('utf8')));
        } catch (err) {
          return sendApiError(res, 'invalid_package', err instanceof Error ? err.message : String(err));
        }
        const hash = toHex(packageHash(pkg));
        const problems = pkg.items
          .filter((it) => !state.services.has(it.service))
          .map((it, i) => ({ path: `items[${i}].service`, code: 'unknown_service', message: `no service ${it.service}` }));
        if (req.url.searchParams.get('dry_run') === 'true') {
          return sendJson(res, 200, `{"hash":"${hash}","package":${stringifyJamJson(workPackageToJson(pkg))},"problems":${JSON.stringify(problems)}}`);
        }
        if (problems.length) return sendApiError(res, 'unknown_service', problems[0]?.message ?? '');
        const existing = state.packages.get(hash);
        if (existing) return sendJson(res, 202, { hash, status: existing.info.status });
        const t = now();
        state.packages.set(hash, {
          pkg,
          reportHash: toHex(blake2b256(Buffer.concat([Buffer.from('report'), packageHash(pkg)]))),
          info: {
            hash,
            status: 'pending',
            service_ids: [...new Set(pkg.items.map((i) => i.service))],
            report_hash: null,
            error: null,
            created_at: t,
            updated_at: t,
            accumulated_at: null,
            retries: 0,
          },
        });
        return sendJson(res, 202, { hash, status: 'pending' });
      }
      case 'packageEvents': {
        if (options.noEvents) break;
        const fp = state.packages.get(params['hash']!);
        if (!fp) return sendApiError(res, 'not_found', `no package ${params['hash']}`);
        // like the gateway: the current status at once, then one event per change, closed at a terminal status
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(': stream open\n\n');
        for (let sent = 1; ; sent++) {
          res.write(`event: status\ndata: ${JSON.stringify(fp.info)}\n\n`);
          if (isFinishedPackageStatus(fp.info.status)) return void res.end();
          await new Promise((r) => setTimeout(r, 5));
          if (options.eventsBreakAfter !== undefined && sent >= options.eventsBreakAfter) return void res.destroy();
          res.write(': keep-alive\n\n');
          advance(fp);
        }
      }
      case 'getPackage': {
        const fp = state.packages.get(params['hash']!);
        if (!fp) return sendApiError(res, 'not_found', `no package ${params['hash']}`);
        advance(fp);
        return sendJson(res, 200, fp.info);
      }
      case 'getReport': {
        const fp = state.packages.get(params['packageHash']!);
        if (!fp || fp.info.report_hash === null) return sendApiError(res, 'not_found', `no report for ${params['packageHash']}`);
        const msg = guaranteeMessage(Buffer.from(fp.reportHash.slice(2), 'hex'));
        return sendJson(res, 200, {
          package_hash: fp.info.hash,
          report_hash: fp.reportHash,
          report: { results: fp.pkg.items.map(() => ({ result: { ok: '0x' } })) },
          // the fake's report hash stands for a report it never encodes: served as legacy (format 1), not checkable
          encoded: '0x',
          hash_format: 1,
          engine: { name: 'fake', version: '0.0.0', cost_table_version: 1 },
          attestations: keys.map((k, i) => ({
            attester_index: i,
            public_key: toHex(k.publicKey.export({ format: 'der', type: 'spki' }).subarray(12)),
            signature: toHex(sign(null, msg, k.privateKey)),
          })),
          threshold: 2,
          verdict: 'attested',
        });
      }
      case 'listAttesters':
        return sendJson(res, 200, {
          attesters: keys.map((k, i) => ({ index: i, public_key: toHex(k.publicKey.export({ format: 'der', type: 'spki' }).subarray(12)) })),
          threshold: 2,
          attester_count: keys.length,
          public_key_encoding: 'ed25519-raw-32-hex',
          signed_message: 'jam_guarantee ++ blake2b256(E(report))',
        });
      default:
        break;
    }
    return sendApiError(res, 'not_found', `no route ${req.method} ${p}`);
  };

  /** One status step per poll; `failMarker` packages fail at refine. */
  function advance(fp: FakePackage): void {
    const { info } = fp;
    if (isFinishedPackageStatus(info.status)) return;
    const first = fp.pkg.items[0];
    if (options.failMarker && first && Buffer.from(first.payload).toString('utf8').includes(options.failMarker) && info.status === 'refining') {
      info.status = 'failed';
      info.error = { code: 'refine_sandbox_failure', message: 'refine trapped' };
      return;
    }
    const next = PACKAGE_STATUSES[PACKAGE_STATUSES.indexOf(info.status) + 1] as PackageStatus;
    info.status = next;
    info.updated_at = now();
    if (next === 'attested') info.report_hash = fp.reportHash;
    if (next === 'accumulated') {
      info.accumulated_at = info.updated_at;
      accumulate(fp);
    }
  }

  return { handler, state };
}

export interface FakeAdminOptions {
  /** the one admin token accepted (401 `unauthorized` "not an admin token" for any other) */
  adminToken: string;
  /** every admin request answers 403 `forbidden`, as from an address outside admin_ip_allowlist */
  forbidden?: boolean;
}

/** In-memory state of `fakeJamAdmin`, exposed for assertions. */
export interface FakeAdminState {
  /** service id -> delegates; only these services exist */
  services: Map<number, string[]>;
  quotas: Map<string, number | null>;
  /** disputed packages: hash -> its reports; resolving removes the package from here */
  disputes: Map<string, { report_hash: string; signers: number }[]>;
  resolved: { hash: string; body: unknown }[];
  /** failed packages an admin may retry; retrying removes the package from here */
  failed: Set<string>;
  audit: { id: string; at: string; action: string; target: string; outcome: string; actor_token_hash: string | null; details: Record<string, unknown> }[];
}

/**
 * A handler for `/admin/*` with the gateway's shapes and refusals (admin.controller.ts,
 * admin-token.guard.ts): 403 first when `forbidden`, then 401 for a wrong token, 404 for an
 * unknown service or package, 409 for a package that is not disputed; every request audited.
 * Starts with service 7 (no delegates), one disputed package (`0x11...`, two reports) and one
 * failed package (`0x22...`).
 */
export function fakeJamAdmin(options: FakeAdminOptions): { handler: FakeHandler; state: FakeAdminState } {
  const disputed = `0x${'11'.repeat(32)}`;
  const state: FakeAdminState = {
    services: new Map([[7, []]]),
    quotas: new Map(),
    disputes: new Map([
      [
        disputed,
        [
          { report_hash: `0x${'aa'.repeat(32)}`, signers: 1 },
          { report_hash: `0x${'bb'.repeat(32)}`, signers: 1 },
        ],
      ],
    ]),
    resolved: [],
    failed: new Set([`0x${'22'.repeat(32)}`]),
    audit: [],
  };
  const now = (): string => new Date().toISOString();
  const pkgView = (hash: string, status: PackageStatus, reportHash: string | null, error: PackageInfo['error']): PackageInfo => ({
    hash,
    status,
    service_ids: [7],
    report_hash: reportHash,
    error,
    created_at: now(),
    updated_at: now(),
    accumulated_at: null,
    retries: 0,
  });
  const handler: FakeHandler = (req, res) => {
    const p = req.url.pathname;
    const audit = (action: string, outcome: string): void => {
      state.audit.unshift({
        id: String(state.audit.length + 1),
        at: now(),
        action,
        target: `${req.method} ${p}`,
        outcome,
        actor_token_hash: `0x${'cd'.repeat(32)}`,
        details: {},
      });
    };
    if (!p.startsWith('/admin/')) return sendError(res, 404, 'not_found', `no route ${req.method} ${p}`);
    if (options.forbidden) return sendError(res, 403, 'forbidden', 'this address may not use the admin API');
    if (req.headers.authorization !== `Bearer ${options.adminToken}`) {
      audit('admin.auth', 'denied');
      return sendError(res, 401, 'unauthorized', req.headers.authorization ? 'not an admin token' : 'missing or malformed bearer token');
    }
    const matched = matchRoute(req.method, p);
    const route = matched?.route.operationId as RouteName | undefined;
    const params = matched?.params ?? {};
    if (route === 'addDelegate' || route === 'removeDelegate') {
      const id = Number(params['id']);
      const delegates = state.services.get(id);
      const action = req.method === 'PUT' ? 'delegate.add' : 'delegate.remove';
      if (!delegates) {
        audit(action, 'failure');
        return sendError(res, 404, 'not_found', `no service ${id}`);
      }
      const who = params['principal']!;
      const next = req.method === 'PUT' ? [...new Set([...delegates, who])] : delegates.filter((d) => d !== who);
      state.services.set(id, next);
      audit(action, 'success');
      return sendJson(res, 200, {
        id,
        code_hash: `0x${'00'.repeat(32)}`,
        owner: 'alice',
        delegates: next,
        min_item_gas: 0,
        min_memo_gas: 0,
        created_at: now(),
      });
    }
    if (route === 'listQuotas') {
      audit('quota.list', 'success');
      const items = [...state.quotas]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([principal, max]) => ({ principal, max_pending_packages: max, updated_at: now() }));
      return sendJson(res, 200, { items, next_cursor: null, default_max_pending_packages: 1000 });
    }
    if (route === 'setQuota' || route === 'removeQuota') {
      const principal = params['principal']!;
      if (route === 'setQuota') {
        const body = JSON.parse(req.body.toString('utf8')) as { max_pending_packages: number | null };
        state.quotas.set(principal, body.max_pending_packages);
        audit('quota.set', 'success');
        return sendJson(res, 200, { principal, max_pending_packages: body.max_pending_packages, updated_at: now() });
      }
      audit('quota.remove', 'success');
      return sendJson(res, 200, { principal, removed: state.quotas.delete(principal) });
    }
    if (route === 'listDisputes') {
      audit('dispute.list', 'success');
      const items = [...state.disputes].map(([hash, reports]) => ({
        ...pkgView(hash, 'disputed', null, { code: 'conflicting_reports', message: 'attesters disagree' }),
        submitted_by: 'alice',
        reports,
      }));
      return sendJson(res, 200, { items, next_cursor: null, threshold: 2 });
    }
    if (route === 'resolveDispute') {
      const hash = params['packageHash']!;
      const body = JSON.parse(req.body.toString('utf8')) as { decision: string; report_hash?: string; reason?: string };
      const reports = state.disputes.get(hash);
      if (!reports) {
        audit('dispute.resolve', 'failure');
        return sendError(res, 404, 'not_found', `no package ${hash}`);
      }
      if (body.decision === 'accept' && !reports.some((r) => r.report_hash === body.report_hash)) {
        audit('dispute.resolve', 'failure');
        return sendError(res, 400, 'invalid_request', `report ${body.report_hash} is not a report of package ${hash}`);
      }
      state.disputes.delete(hash);
      state.resolved.push({ hash, body });
      audit('dispute.resolve', 'success');
      return sendJson(
        res,
        200,
        body.decision === 'accept'
          ? pkgView(hash, 'attested', body.report_hash ?? null, null)
          : pkgView(hash, 'failed', null, { code: 'dispute_rejected', message: body.reason ?? 'rejected by an administrator' }),
      );
    }
    if (route === 'adminRetryPackage') {
      const hash = params['packageHash']!;
      if (!state.failed.has(hash)) {
        audit('package.retry', 'failure');
        return sendError(res, 404, 'not_found', `no package ${hash}`);
      }
      state.failed.delete(hash);
      audit('package.retry', 'success');
      return sendJson(res, 202, { ...pkgView(hash, 'pending', null, null), retries: 1 });
    }
    if (route === 'listAudit') {
      const action = req.url.searchParams.get('action');
      audit('audit.list', 'success');
      return sendJson(res, 200, { items: state.audit.filter((e) => !action || e.action === action), next_cursor: null });
    }
    return sendError(res, 404, 'not_found', `no route ${req.method} ${p}`);
  };
  return { handler, state };
}
