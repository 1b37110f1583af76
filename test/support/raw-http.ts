import * as http from 'node:http';
import * as net from 'node:net';

/** One HTTP response parsed from raw socket bytes. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: any;
}

/** Parses every HTTP/1.1 response in `raw` (Content-Length framed; 1xx interim answers included). */
export function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? '0');
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    let json: unknown;
    try {
      json = body.length > 0 ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body, json });
    rest = rest.slice(headEnd + 4 + length);
  }
  return out;
}

/**
 * Writes `parts` to a raw TCP connection (a number = pause that many ms; `'end'` = half-close),
 * then reads until the server closes or `waitMs` passes (default 60 s: a backstop only, every
 * caller expects the server to close, and it returns as soon as it does; a busy machine may
 * delay the close by seconds, so nothing asserts how soon). Reports what came back, whether the
 * server closed the connection, how long until it did, and whether a write failed (reset).
 */
export async function rawExchange(
  port: number,
  parts: (string | Buffer | number | 'end')[],
  opts: { waitMs?: number; localAddress?: string } = {},
): Promise<{ responses: RawResponse[]; raw: string; closed: boolean; closedAfterMs: number; writeError?: string }> {
  const started = Date.now();
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let raw = '';
  let closed = false;
  let closedAt = 0;
  let writeError: string | undefined;
  socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
  socket.on('error', (err: NodeJS.ErrnoException) => (writeError = err.code ?? err.message));
  const closedP = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      closedAt = Date.now();
      resolve();
    }),
  );
  for (const p of parts) {
    if (closed) break;
    if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
    else if (p === 'end') socket.end();
    else await new Promise<void>((resolve) => socket.write(p, () => resolve()));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closedP, new Promise((r) => (timer = setTimeout(r, opts.waitMs ?? 60_000)))]);
  clearTimeout(timer);
  if (!closed) socket.destroy();
  return { responses: parseResponses(raw), raw, closed, closedAfterMs: (closed ? closedAt : Date.now()) - started, writeError };
}

/** A request with node:http (for `localAddress`, i.e. a distinct client IP on 127.0.0.0/8). */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; localAddress?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: opts.headers, localAddress: opts.localAddress, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Reads one Prometheus counter sample (labels given in order as they appear) from `/metrics` text. */
export function metricValue(metricsText: string, name: string, labels: Record<string, string>): number {
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
