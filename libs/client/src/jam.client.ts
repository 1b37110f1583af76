import { blake2b256, initHashing, stringifyJamJson, toHex, workPackageToJson, type WorkPackage } from '@jam/domain';
import { JamApiError, JamClientError, JamNetworkError } from './jam-client.errors';
import {
  isTerminalPackageStatus,
  type CreateServiceRequest,
  type DryRunResult,
  type HealthInfo,
  type HexString,
  type JamClientOptions,
  type ListPackagesRequest,
  type PackageInfo,
  type Page,
  type PageRequest,
  type PreimageMeta,
  type PreimageStreamSource,
  type PutPreimageResult,
  type ReportInfo,
  type AttesterSet,
  type Service,
  type StorageEntry,
  type SubmitPackageResult,
  type UploadProgress,
  type WaitForPackageOptions,
  type FollowPackageOptions,
  type PackageEventsOptions,
} from './jam-client.types';
import { SseParser } from './sse';
import { ROUTES, routePath } from '@jam/http-contract';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_WAIT_TIMEOUT_MS = 120_000;
const DEFAULT_POLL_INTERVAL_MS = 500;
/** Silence on a status stream after which it counts as broken (ms); the gateway sends a keep-alive every 15 s. */
const DEFAULT_STREAM_IDLE_MS = 45_000;
/** Chunk size of in-memory uploads when progress is wanted (bytes). */
const UPLOAD_CHUNK_BYTES = 64 * 1024;
const HASH_RE = /^0x[0-9a-f]{64}$/;
const HEX_RE = /^0x(?:[0-9a-f]{2})*$/;
const SERVER_HINT = 'is the server running? start it with `npm start`';
/** Methods whose request may be sent twice with the effect of once (RFC 9110 section 9.2.2); the gateway keeps to it (PUT of a content-addressed preimage). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/** Network failures that got no answer because the connection closed under the request (see {@link JamClient.request}). */
const dropped = new WeakSet<JamNetworkError>();

/**
 * A package body for `submitPackage`: a decoded `WorkPackage` (sent as GP JSON), the GP binary
 * encoding (sent as `application/octet-stream`), or GP JSON text as is (`{json}`, e.g. a file).
 */
export type PackageBody = WorkPackage | Uint8Array | { json: string };

interface RequestInit {
  query?: Record<string, string | number | boolean | undefined>;
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
  /** A fresh copy of a stream `body` for a retry ({@link isIdempotentMethod}); without it a stream body is never sent twice. */
  replayBody?: () => ReadableStream<Uint8Array>;
  contentType?: string;
  /** bytes; set for streamed bodies so the server sees Content-Length */
  contentLength?: number;
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Typed client of the gateway's HTTP API (docs/architecture.md section 5), on Node's global fetch.
 *
 * Every non-2xx answer throws `JamApiError` with the server's stable error code; a request that
 * gets no answer throws `JamNetworkError` naming the URL. Hash arguments are `0x` hex (any case;
 * sent lowercase); a malformed one throws `JamClientError` code `invalid_argument` before any I/O.
 */
export class JamClient {
  private readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: JamClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new JamClientError('invalid_argument', `invalid server URL ${JSON.stringify(options.baseUrl)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new JamClientError('invalid_argument', `server URL must be http(s), got ${options.baseUrl}`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token === '' ? undefined : options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? fetch;
  }

  /**
   * `PUT /jam/preimages/{hash}`: stores bytes under their Blake2b-256 hash.
   * Given bytes, the hash is computed here; given a stream, `hash` and `length` must be right
   * (the server answers 422 `hash_mismatch` otherwise). `onProgress` is called as chunks are sent.
   * Throws `JamApiError` `hash_mismatch` (422), `payload_too_large` (413), ...
   */
  async putPreimage(source: Uint8Array | PreimageStreamSource, onProgress?: (progress: UploadProgress) => void): Promise<PutPreimageResult> {
    let hash: HexString;
    let totalBytes: number;
    let body: Uint8Array | ReadableStream<Uint8Array>;
    let replayBody: (() => ReadableStream<Uint8Array>) | undefined;
    if (source instanceof Uint8Array) {
      await initHashing();
      hash = toHex(blake2b256(source));
      totalBytes = source.length;
      body = onProgress ? streamOf(chunksOf(source)) : source;
      replayBody = onProgress ? () => streamOf(chunksOf(source)) : undefined;
    } else {
      hash = normalizeHash(source.hash);
      totalBytes = source.length;
      body = isReadableStream(source.stream) ? source.stream : streamOf(source.stream);
    }
    const res = await this.request(ROUTES.putPreimage.method, routePath(ROUTES.putPreimage, { hash }), {
      body,
      ...(replayBody ? { replayBody } : {}),
      contentType: 'application/octet-stream',
      contentLength: totalBytes,
      ...(onProgress ? { onProgress: (sentBytes: number) => onProgress({ sentBytes, totalBytes }) } : {}),
    });
    const out = parseJson<{ hash: HexString; length: number }>(res, 'PUT /jam/preimages');
    return { hash: out.hash, length: out.length, created: res.status === 201 };
  }

  /**
   * `GET /jam/preimages/{hash}`: the stored bytes, checked against `hash` here
   * (a mismatch throws `JamClientError` code `response_hash_mismatch`).
   */
  async getPreimage(hash: HexString): Promise<Uint8Array> {
    const h = normalizeHash(hash);
    const res = await this.request(ROUTES.getPreimage.method, routePath(ROUTES.getPreimage, { hash: h }), {});
    await initHashing();
    const got = toHex(blake2b256(res.body));
    if (got !== h) {
      throw new JamClientError('response_hash_mismatch', `server returned ${res.body.length} bytes hashing to ${got}, not ${h}`);
    }
    return res.body;
  }

  /** `GET /jam/preimages/{hash}/meta`; `not_found` (404) when nothing is stored under `hash`. */
  async preimageMeta(hash: HexString): Promise<PreimageMeta> {
    return this.getJson<PreimageMeta>(routePath(ROUTES.preimageMeta, { hash: normalizeHash(hash) }));
  }

  /** `POST /jam/services`; throws `invalid_code` / `unknown_preimage` (422) for bad code. */
  async createService(request: CreateServiceRequest): Promise<Service> {
    const res = await this.request(ROUTES.createService.method, routePath(ROUTES.createService, {}), {
      body: JSON.stringify({ ...request, code_hash: normalizeHash(request.code_hash) }),
      contentType: 'application/json',
    });
    return parseJson<Service>(res, 'POST /jam/services');
  }

  /** `GET /jam/services/{id}`. */
  async getService(id: number): Promise<Service> {
    return this.getJson<Service>(routePath(ROUTES.getService, { id: serviceId(id) }));
  }

  /** `GET /jam/services`: one page; pass `next_cursor` back as `cursor` for the next. */
  async listServices(page: PageRequest = {}): Promise<Page<Service>> {
    return this.getJson<Page<Service>>(routePath(ROUTES.listServices, {}), { limit: page.limit, cursor: page.cursor });
  }

  /**
   * `GET /jam/services/{id}/storage/{key}`: `key` as bytes or `0x` hex.
   * An absent key throws `JamApiError` code `not_found` (404).
   */
  async getStorage(id: number, key: Uint8Array | HexString): Promise<StorageEntry> {
    return this.getJson<StorageEntry>(routePath(ROUTES.getStorage, { id: serviceId(id), key: normalizeHex(key) }));
  }

  /**
   * `POST /jam/packages`: submits a work package (202, idempotent: the same package again gives
   * its current status). With `{dryRun: true}` the server only decodes, hashes and checks it
   * (200, nothing stored). Throws `invalid_package` (422), `unknown_service`, ...
   */
  submitPackage(pkg: PackageBody, options: { dryRun: true }): Promise<DryRunResult>;
  submitPackage(pkg: PackageBody, options?: { dryRun?: false }): Promise<SubmitPackageResult>;
  submitPackage(pkg: PackageBody, options?: { dryRun?: boolean }): Promise<SubmitPackageResult | DryRunResult>;
  async submitPackage(pkg: PackageBody, options: { dryRun?: boolean } = {}): Promise<SubmitPackageResult | DryRunResult> {
    let body: Uint8Array | string;
    let contentType: string;
    if (pkg instanceof Uint8Array) {
      body = pkg;
      contentType = 'application/octet-stream';
    } else if ('json' in pkg) {
      body = pkg.json;
      contentType = 'application/json';
    } else {
      body = stringifyJamJson(workPackageToJson(pkg));
      contentType = 'application/json';
    }
    const res = await this.request(ROUTES.submitPackage.method, routePath(ROUTES.submitPackage, {}), {
      body,
      contentType,
      query: options.dryRun ? { dry_run: true } : {},
    });
    return options.dryRun ? parseJson<DryRunResult>(res, 'POST /jam/packages?dry_run=true') : parseJson<SubmitPackageResult>(res, 'POST /jam/packages');
  }

  /** `GET /jam/packages/{hash}`. */
  async getPackage(hash: HexString): Promise<PackageInfo> {
    return this.getJson<PackageInfo>(routePath(ROUTES.getPackage, { hash: normalizeHash(hash) }));
  }

  /**
   * `POST /jam/packages/{hash}/retry`: runs a failed package again when its failure was not a guest
   * outcome (wall clock, executor, storage over the executor limits), at most
   * `max_package_retries` times. @returns the package, `pending` or `attested`
   * @throws JamApiError 409 `conflict` (not failed) / `retry_limit_reached`, 422 `not_retryable`, 404
   */
  async retryPackage(hash: HexString): Promise<PackageInfo> {
    const res = await this.request(ROUTES.retryPackage.method, routePath(ROUTES.retryPackage, { hash: normalizeHash(hash) }), {});
    return parseJson<PackageInfo>(res, 'POST /jam/packages/{hash}/retry');
  }

  /** `GET /jam/services/{id}/packages`, optionally filtered by status. */
  async listPackages(id: number, request: ListPackagesRequest = {}): Promise<Page<PackageInfo>> {
    return this.getJson<Page<PackageInfo>>(routePath(ROUTES.listServicePackages, { id: serviceId(id) }), {
      status: request.status,
      limit: request.limit,
      cursor: request.cursor,
    });
  }

  /** `GET /jam/reports/{package_hash}`: the WorkReport, its attestations and the verdict. */
  async getReport(packageHash: HexString): Promise<ReportInfo> {
    return this.getJson<ReportInfo>(routePath(ROUTES.getReport, { packageHash: normalizeHash(packageHash) }));
  }

  /** `GET /jam/attesters`: the attester set (index, Ed25519 public key), the threshold and the signed message layout. */
  async attesters(): Promise<AttesterSet> {
    return this.getJson<AttesterSet>(routePath(ROUTES.listAttesters, {}));
  }

  /** `GET /healthz`. */
  async health(): Promise<HealthInfo> {
    return this.getJson<HealthInfo>(routePath(ROUTES.healthz, {}));
  }

  /**
   * Polls `GET /jam/packages/{hash}` until the status is terminal (`accumulated`, `failed`,
   * `disputed`) and returns that last answer; a `failed` package is returned, not thrown.
   * `rate_limited` (429) and 503 answers are waited out (honouring Retry-After); other errors
   * throw. Throws `JamClientError` code `wait_timeout` after `timeoutMs` (default 120 s).
   * `followPackage` does the same over the status stream, with this as its fallback.
   */
  async waitForPackage(hash: HexString, options: WaitForPackageOptions = {}): Promise<PackageInfo> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    return this.pollPackage(normalizeHash(hash), options, timeoutMs, Date.now() + timeoutMs, undefined);
  }

  /**
   * `GET /jam/packages/{hash}/events`: the package's status as server-sent events, the current
   * status first, then each change; the iteration ends when the server closes the stream (it does
   * after a terminal status). Throws `JamApiError` for a non-2xx answer (before the first value),
   * `JamClientError` `invalid_response` for an answer that is not an event stream or an event that
   * is not package JSON, `JamNetworkError` `network_error` when the connection breaks and
   * `timeout` after `idleTimeoutMs` (default 45 s) without a byte, `JamClientError` `aborted`
   * when `signal` fires.
   */
  async *packageEvents(hash: HexString, options: PackageEventsOptions = {}): AsyncGenerator<PackageInfo, void, undefined> {
    const url = this.url(routePath(ROUTES.packageEvents, { hash: normalizeHash(hash) }));
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    const idleMs = options.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_MS;
    const idle = new IdleTimer(idleMs);
    const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
    const fail = (err: unknown): JamClientError => {
      if (err instanceof JamClientError) return err;
      if (options.signal?.aborted) return new JamClientError('aborted', `stopped following package ${hash}`, { cause: err });
      if (idle.fired) {
        return new JamNetworkError('timeout', url, `GET ${url}: the status stream was silent for ${idleMs} ms`, { cause: err });
      }
      return new JamNetworkError('network_error', url, `GET ${url} failed: ${describeCause(err)} (${SERVER_HINT})`, { cause: err });
    };
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      let response: Response;
      try {
        response = await this.fetchFn(url, { method: 'GET', headers, signal });
      } catch (err) {
        throw fail(err);
      }
      idle.reset();
      if (response.status < 200 || response.status > 299) {
        const bytes = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
        throw toApiError('GET', url, response.status, response.statusText, response.headers, bytes);
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        throw new JamClientError('invalid_response', `GET ${url}: HTTP ${response.status} ${type || 'without a content type'}, not an event stream`);
      }
      reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      for (;;) {
        let next: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
        try {
          next = await reader.read();
        } catch (err) {
          throw fail(err);
        }
        if (next.done) return;
        idle.reset();
        for (const ev of parser.push(decoder.decode(next.value, { stream: true }))) {
          if (ev.event !== 'status') continue;
          let pkg: PackageInfo;
          try {
            pkg = JSON.parse(ev.data) as PackageInfo;
          } catch {
            throw new JamClientError('invalid_response', `GET ${url}: a status event that is not JSON: ${ev.data.slice(0, 200)}`);
          }
          if (!isRecord(pkg) || typeof pkg.status !== 'string' || typeof pkg.hash !== 'string') {
            throw new JamClientError('invalid_response', `GET ${url}: a status event without hash and status: ${ev.data.slice(0, 200)}`);
          }
          yield pkg;
        }
      }
    } finally {
      idle.clear();
      // an early return or throw of the consumer closes the connection
      await reader?.cancel().catch(() => undefined);
    }
  }

  /**
   * Follows a package to a terminal status over its status stream (`packageEvents`) and returns
   * the last status, like `waitForPackage` (same options, `onStatus` once per distinct status,
   * `wait_timeout` after `timeoutMs`, `aborted`). When the stream cannot be opened or breaks
   * (network error, silence past `idleTimeoutMs`, 404/405/501 from a gateway without the route,
   * 429 when too many streams are open, 5xx, not an event stream, the stream ending before a
   * terminal status), `onFallback` is called once and polling takes over for the time left.
   * Other API errors (400, 401, 403, ...) throw `JamApiError` as polling would.
   */
  async followPackage(hash: HexString, options: FollowPackageOptions = {}): Promise<PackageInfo> {
    const h = normalizeHash(hash);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    let last: PackageInfo | undefined;
    let reason: Error;
    try {
      for await (const pkg of this.packageEvents(h, { signal, ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}) })) {
        if (!last || last.status !== pkg.status) options.onStatus?.(pkg);
        last = pkg;
        if (isTerminalPackageStatus(pkg.status)) return pkg;
      }
      reason = new JamClientError('stream_ended', `the status stream of package ${h} ended before a terminal status (last: ${last?.status ?? 'none'})`);
    } catch (err) {
      if (options.signal?.aborted) throw new JamClientError('aborted', `stopped waiting for package ${h}`);
      if (timeout.signal.aborted) {
        throw new JamClientError('wait_timeout', `package ${h} not finished after ${timeoutMs} ms (last status: ${last?.status ?? 'unknown'})`);
      }
      if (!isStreamFallbackError(err)) throw err;
      reason = err;
    } finally {
      clearTimeout(timer);
    }
    options.onFallback?.(reason);
    return this.pollPackage(h, options, timeoutMs, deadline, last);
  }

  /** The polling loop of `waitForPackage`; `last` is the status already reported to `onStatus`. */
  private async pollPackage(
    h: HexString,
    options: WaitForPackageOptions,
    timeoutMs: number,
    deadline: number,
    last: PackageInfo | undefined,
  ): Promise<PackageInfo> {
    const intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    for (;;) {
      if (options.signal?.aborted) throw new JamClientError('aborted', `stopped waiting for package ${h}`);
      let delayMs = intervalMs;
      try {
        const pkg = await this.getPackage(h);
        if (!last || last.status !== pkg.status) options.onStatus?.(pkg);
        last = pkg;
        if (isTerminalPackageStatus(pkg.status)) return pkg;
      } catch (err) {
        if (!(err instanceof JamApiError) || (err.status !== 429 && err.status !== 503)) throw err;
        delayMs = Math.max(intervalMs, (err.retryAfterSeconds ?? 0) * 1000);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new JamClientError('wait_timeout', `package ${h} not finished after ${timeoutMs} ms (last status: ${last?.status ?? 'unknown'})`);
      }
      await sleep(Math.min(delayMs, remaining), options.signal);
    }
  }

  /**
   * `method path` with an optional JSON body (`application/json`), answer parsed as JSON;
   * non-2xx throws `JamApiError` like every call.
   */
  protected async sendJson<T>(method: string, path: string, body?: unknown, query?: RequestInit['query']): Promise<T> {
    const res = await this.request(method, path, {
      ...(query ? { query } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
    });
    return parseJson<T>(res, `${method} ${path}`);
  }

  /** GET of a JSON answer. */
  protected async getJson<T>(path: string, query?: RequestInit['query']): Promise<T> {
    const res = await this.request('GET', path, query ? { query } : {});
    return parseJson<T>(res, `GET ${path}`);
  }

  /**
   * One HTTP exchange; resolves only for 2xx, with the whole body read. An idempotent request
   * (GET, HEAD, PUT, DELETE) whose connection closed before any answer (undici `UND_ERR_SOCKET
   * other side closed`, `ECONNRESET`, `EPIPE`) is sent once more on a new connection: that is how a
   * kept-alive connection looks when the server's idle timer closed it just as the request went
   * out. Not a POST, and not a stream body without `replayBody`. Throws as {@link exchange}.
   */
  protected async request(method: string, path: string, init: RequestInit & { onProgress?: (sentBytes: number) => void }): Promise<RawResponse> {
    try {
      return await this.exchange(method, path, init);
    } catch (err) {
      const replayable = !(init.body instanceof ReadableStream) || init.replayBody !== undefined;
      if (!(err instanceof JamNetworkError) || !dropped.has(err) || !IDEMPOTENT_METHODS.has(method.toUpperCase()) || !replayable) throw err;
      return this.exchange(method, path, init.replayBody ? { ...init, body: init.replayBody() } : init);
    }
  }

  /**
   * One attempt of {@link request}.
   * @throws JamApiError for a non-2xx answer; JamNetworkError `timeout` (no progress within
   *   timeoutMs) or `network_error` (no answer); JamClientError from a stream body
   */
  private async exchange(method: string, path: string, init: RequestInit & { onProgress?: (sentBytes: number) => void }): Promise<RawResponse> {
    const url = this.url(path, init.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    if (init.contentType) headers['content-type'] = init.contentType;
    if (init.contentLength !== undefined) headers['content-length'] = String(init.contentLength);

    const idle = new IdleTimer(this.timeoutMs);
    let body = init.body;
    let bodyError: unknown;
    if (body instanceof ReadableStream) {
      body = meteredStream(
        body,
        init.contentLength,
        (sent) => {
          idle.reset();
          init.onProgress?.(sent);
        },
        (err) => {
          bodyError = err;
        },
      );
    }
    let answered = false;
    try {
      const response = await this.fetchFn(url, {
        method,
        headers,
        signal: idle.signal,
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
      } as globalThis.RequestInit);
      answered = true;
      idle.reset();
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (response.status < 200 || response.status > 299) {
        throw toApiError(method, url, response.status, response.statusText, response.headers, bytes);
      }
      return { status: response.status, headers: response.headers, body: bytes };
    } catch (err) {
      if (err instanceof JamClientError) throw err;
      if (bodyError instanceof JamClientError) throw bodyError;
      if (idle.fired) {
        throw new JamNetworkError('timeout', url, `${method} ${url}: no answer within ${this.timeoutMs} ms (${SERVER_HINT})`, {
          cause: err,
        });
      }
      const failure = new JamNetworkError('network_error', url, `${method} ${url} failed: ${describeCause(err)} (${SERVER_HINT})`, {
        cause: err,
      });
      if (!answered && isConnectionDropped(err)) dropped.add(failure);
      throw failure;
    } finally {
      idle.clear();
    }
  }

  protected url(path: string, query: RequestInit['query'] = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }
}

/** Aborts a request after `ms` without progress; `reset()` restarts the clock. */
class IdleTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  fired = false;

  constructor(private readonly ms: number) {
    this.reset();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  reset(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
    }, this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function toApiError(method: string, url: string, status: number, statusText: string, headers: Headers, body: Uint8Array): JamApiError {
  const text = new TextDecoder().decode(body);
  const retryAfter = Number(headers.get('retry-after') ?? NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = isRecord(parsed) && isRecord(parsed['error']) ? parsed['error'] : undefined;
  if (error && typeof error['code'] === 'string' && error['code'] !== '') {
    const message = typeof error['message'] === 'string' ? error['message'] : `${method} ${url}: HTTP ${status}`;
    const details = isRecord(error['details']) ? error['details'] : undefined;
    return new JamApiError(status, error['code'], message, details, retryAfterSeconds);
  }
  const snippet = text.trim().replace(/\s+/g, ' ').slice(0, 200);
  return new JamApiError(
    status,
    `http_${status}`,
    `${method} ${url}: HTTP ${status}${statusText ? ` ${statusText}` : ''}${snippet ? `: ${snippet}` : ' (empty body)'}`,
    undefined,
    retryAfterSeconds,
  );
}

/**
 * Whether a failure of the status stream is one polling may get past: no answer or a broken
 * connection, a gateway without the route (404, 405, 501), too many open streams (429), a server
 * error (5xx), or an answer that is not an event stream. Bad requests and refused tokens are not.
 */
function isStreamFallbackError(err: unknown): err is JamClientError {
  if (err instanceof JamNetworkError) return true;
  if (err instanceof JamApiError) return [404, 405, 429, 501].includes(err.status) || err.status >= 500;
  return err instanceof JamClientError && err.code === 'invalid_response';
}

/** Parses a JSON answer; `invalid_response` when it is not JSON. */
function parseJson<T>(res: RawResponse, what: string): T {
  const text = new TextDecoder().decode(res.body);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new JamClientError('invalid_response', `${what}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8080` from undici's `fetch failed` and its cause. */
function describeCause(err: unknown): string {
  // duck-typed: errors from undici may come from another realm (Jest's VM), where instanceof fails
  const cause = isObject(err) ? err['cause'] : undefined;
  const source = isObject(cause) ? cause : isObject(err) ? err : undefined;
  if (!source) return String(err);
  const code = typeof source['code'] === 'string' ? source['code'] : '';
  const message = typeof source['message'] === 'string' ? source['message'] : '';
  const text = code && message.includes(code) ? message : `${code} ${message}`.trim();
  return text || String(err);
}

/** Whether a fetch failure is a connection closed under the request: undici `UND_ERR_SOCKET`, `ECONNRESET`, `EPIPE` (duck-typed like {@link describeCause}). */
function isConnectionDropped(err: unknown): boolean {
  const cause = isObject(err) ? err['cause'] : undefined;
  const code = isObject(cause) ? cause['code'] : undefined;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isReadableStream(v: unknown): v is ReadableStream<Uint8Array> {
  return v instanceof ReadableStream;
}

/** Lowercases a `0x` hash and checks it is 32 bytes of hex; `JamClientError` `invalid_argument` otherwise. */
export function normalizeHash(hash: string): HexString {
  const h = hash.toLowerCase();
  if (!HASH_RE.test(h)) throw new JamClientError('invalid_argument', `not a 0x-prefixed 32-byte hex hash: ${JSON.stringify(hash)}`);
  return h;
}

function normalizeHex(value: Uint8Array | string): HexString {
  if (value instanceof Uint8Array) return toHex(value);
  const h = value.toLowerCase();
  if (!HEX_RE.test(h)) throw new JamClientError('invalid_argument', `not 0x-prefixed hex bytes: ${JSON.stringify(value)}`);
  return h;
}

function serviceId(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new JamClientError('invalid_argument', `service id must be a u32, got ${id}`);
  }
  return String(id);
}

function* chunksOf(bytes: Uint8Array): Iterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += UPLOAD_CHUNK_BYTES) yield bytes.subarray(i, i + UPLOAD_CHUNK_BYTES);
}

function streamOf(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/**
 * Passes chunks through, counting bytes for progress; a body longer or shorter than the declared
 * length is an error here (`length_mismatch`) rather than an obscure one from the HTTP stack.
 */
function meteredStream(
  source: ReadableStream<Uint8Array>,
  declaredLength: number | undefined,
  onChunk: (sentBytes: number) => void,
  onError: (err: JamClientError) => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let sent = 0;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, message: string): void => {
    const err = new JamClientError('length_mismatch', message);
    onError(err);
    controller.error(err);
    void reader.cancel(err);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await reader.read();
      if (next.done) {
        if (declaredLength !== undefined && sent !== declaredLength) {
          fail(controller, `upload body ended after ${sent} bytes, ${declaredLength} declared`);
          return;
        }
        controller.close();
        return;
      }
      const chunk = next.value instanceof Uint8Array ? next.value : new Uint8Array(next.value);
      sent += chunk.length;
      if (declaredLength !== undefined && sent > declaredLength) {
        fail(controller, `upload body is longer than the ${declaredLength} bytes declared`);
        return;
      }
      controller.enqueue(chunk);
      onChunk(sent);
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
