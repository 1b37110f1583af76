import pino, { type Logger } from 'pino';
import { activeTraceFields } from './tracing';

export type { Logger } from 'pino';

/**
 * Structured JSON logger (pino). Authorization headers, tokens and bodies are redacted by path;
 * callers log a short token hash (`tokenHash`) instead of a token, and never blob contents.
 * While tracing is on, a line written inside a span (a request, a job) carries that span's
 * `trace_id`, `span_id` and `trace_flags` (hex), so a log search finds the trace and back.
 */
export function createLogger(opts: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'jam',
      base: { pid: process.pid },
      mixin: activeTraceFields,
      redact: {
        // Defence in depth: call sites never pass these, but a careless `{ req }` or `{ headers }`
        // must not leak a credential or a blob. Tests: test/e2e/log-hygiene.e2e-spec.ts.
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          '*.headers.authorization',
          'authorization',
          '*.authorization',
          'token',
          '*.token',
          'body',
          '*.body',
          'rawBody',
          '*.rawBody',
        ],
        censor: '<redacted>',
      },
    },
    opts.destination,
  );
}
