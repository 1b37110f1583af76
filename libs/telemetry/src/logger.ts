import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logger (pino). Authorization headers, tokens and bodies are redacted by path;
 * callers log a short token hash (`tokenHash`) instead of a token, and never blob contents.
 */
export function createLogger(opts: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'jam',
      base: { pid: process.pid },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token', 'body', '*.body'],
        censor: '<redacted>',
      },
    },
    opts.destination,
  );
}
