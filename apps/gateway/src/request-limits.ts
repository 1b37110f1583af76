import type { IncomingMessage, ServerOptions, ServerResponse, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import type { JamMetrics, Logger } from '@jam/telemetry';

/** HTTP-level caps of the gateway (threat model "DoS / Resource Exhaustion"), from `@jam/config`. */
export interface RequestLimits {
  /** Longest request target (path + query), bytes; 414 above. */
  maxUrlBytes: number;
  /** Node `maxHeaderSize`: request line + headers, bytes; 431 above. */
  maxHeaderBytes: number;
  /** Whole request (headers + body) must arrive within this, ms; 408 after. */
  requestTimeoutMs: number;
  /** Headers must arrive within this, ms; 408 after. */
  headersTimeoutMs: number;
  /** Longest pause between body bytes, ms; 408 after. */
  bodyIdleTimeoutMs: number;
}

/**
 * Options for `http.createServer`. `connectionsCheckingInterval` (Node default 30 s) is how often
 * Node looks for requests past `requestTimeout`/`headersTimeout`, so it bounds how late a slow
 * request is cut: kept at most 1 s.
 */
export function httpServerOptions(limits: RequestLimits): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** The error body of docs/architecture.md section 5 as a string. */
export function errorJson(code: string, message: string, details?: Record<string, unknown>): string {
  return JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } });
}

/**
 * Answers with the JSON error shape on a raw `ServerResponse` (usable before Express and Nest see
 * the request). `close` adds `Connection: close`: use it whenever a request body was not read, so
 * Node does not drain an unread upload to keep the connection alive.
 */
export function sendJsonError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  opts: { details?: Record<string, unknown>; headers?: Record<string, string>; close?: boolean } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorJson(code, message, opts.details);
  res.writeHead(status, {
    ...opts.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...(opts.close ? { Connection: 'close' } : {}),
  });
  res.end(body);
}

/** True when the request announces a body (Content-Length > 0 or any Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  return te !== undefined || (cl !== undefined && cl !== '0');
}

/** 414 `uri_too_long` when the request target is longer than `max_url_bytes`; true when it answered. */
export function refuseLongUrl(req: IncomingMessage, res: ServerResponse, limits: RequestLimits, metrics: JamMetrics): boolean {
  const length = Buffer.byteLength(req.url ?? '', 'latin1');
  if (length <= limits.maxUrlBytes) return false;
  metrics.quotaRejected.inc({ quota: 'max_url_bytes' });
  sendJsonError(res, 414, 'uri_too_long', `request target of ${length} bytes exceeds max_url_bytes (${limits.maxUrlBytes})`, {
    details: { max_bytes: limits.maxUrlBytes },
    close: hasBody(req),
  });
  return true;
}

/** Express middleware: the URL cap, before routing, authentication and any body read. */
export function urlCapMiddleware(limits: RequestLimits, metrics: JamMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!refuseLongUrl(req, res, limits, metrics)) next();
  };
}

/**
 * Express middleware: while a request body is being received, a pause longer than
 * `body_idle_timeout_ms` between bytes answers 408 `request_timeout` with `Connection: close`, so
 * Node closes the socket; the route reading the body then sees the stream fail and stores nothing.
 * Implemented with the socket idle timeout (Node refreshes it on every byte the parser consumes);
 * it is switched off when the body ends, before the response, so keep-alive timing is untouched.
 * A steady slow drip that never pauses that long is cut by `request_timeout_ms` instead.
 */
export function bodyIdleTimeoutMiddleware(limits: RequestLimits, metrics: JamMetrics, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!hasBody(req) || req.complete) {
      next();
      return;
    }
    const socket = req.socket;
    req.once('end', () => {
      if (!res.writableFinished && !socket.destroyed) socket.setTimeout(0);
    });
    req.setTimeout(limits.bodyIdleTimeoutMs, () => {
      if (req.complete) return;
      metrics.quotaRejected.inc({ quota: 'body_idle_timeout_ms' });
      logger.warn(
        { method: req.method, path: req.path, received: socket.bytesRead, idleMs: limits.bodyIdleTimeoutMs },
        'request body stalled; closing the connection',
      );
      if (res.headersSent) {
        socket.destroy();
        return;
      }
      // Once the answer is out, end the body stream: Node detaches a finished request from its
      // socket, so closing the socket alone would leave the route waiting on the body forever
      // (and the blob store's temp file open). Without an error argument, so no 'error' event
      // can go unhandled; a reader sees a premature close.
      res.once('finish', () => req.destroy());
      sendJsonError(res, 408, 'request_timeout', `no request body bytes for ${limits.bodyIdleTimeoutMs} ms (body_idle_timeout_ms)`, {
        details: { body_idle_timeout_ms: limits.bodyIdleTimeoutMs },
        close: true,
      });
      // Should the client never read the answer, do not keep the socket for it.
      setTimeout(() => {
        req.destroy();
        socket.destroy();
      }, 2000).unref();
    });
    next();
  };
}

/**
 * Replaces Node's default `clientError` answer (plain text) with the JSON error shape:
 * 431 `header_too_large` past `max_header_bytes`, 408 `request_timeout` past
 * `request_timeout_ms`/`headers_timeout_ms`, 400 `invalid_request` for malformed HTTP (including
 * bytes left over after a body shorter than the client claimed). The socket is then closed.
 */
export function installClientErrorHandler(server: Server, limits: RequestLimits, metrics: JamMetrics, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, duplex: Duplex) => {
    const socket = duplex as Socket;
    const code = err.code ?? '';
    // Node's own rule: answer only if no in-flight response has started on this socket, so a
    // half-written response is never corrupted (otherwise just close).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    let status: number;
    let body: string;
    if (code === 'HPE_HEADER_OVERFLOW') {
      metrics.quotaRejected.inc({ quota: 'max_header_bytes' });
      status = 431;
      body = errorJson('header_too_large', `request line and headers exceed max_header_bytes (${limits.maxHeaderBytes})`, { max_bytes: limits.maxHeaderBytes });
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      metrics.quotaRejected.inc({ quota: 'request_timeout_ms' });
      status = 408;
      body = errorJson(
        'request_timeout',
        `request not received within request_timeout_ms (${limits.requestTimeoutMs}) / headers_timeout_ms (${limits.headersTimeoutMs})`,
      );
    } else {
      status = 400;
      body = errorJson('invalid_request', 'malformed HTTP request');
    }
    logger.info({ code, status, remote: socket.remoteAddress }, 'HTTP client error; connection closed');
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}
