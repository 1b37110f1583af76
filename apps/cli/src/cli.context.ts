import type { Command } from 'commander';
import { JamClient, type JamApiError } from '@jam/client';

/** Where the CLI writes; `process.stdout`/`process.stderr` in production, buffers in tests. */
export interface CliStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

/**
 * Everything the CLI takes from its process, gathered by the entry point (main.ts) so no other
 * module reads the environment or the working directory.
 */
export interface CliEnvironment {
  /** JAM_URL */
  url?: string;
  /** JAM_TOKEN */
  token?: string;
  /** JAM_ADMIN_TOKEN: the admin token of `jam admin` (never the /jam token) */
  adminToken?: string;
  /** JAM_DATA_DIR: where the embedded server keeps `dev-token` (default `.jam-data` under `cwd`) */
  dataDir?: string;
  /** working directory: relative paths and `.jam-data/dev-token` are resolved against it */
  cwd: string;
  stdout: CliStream;
  stderr: CliStream;
  /**
   * Sandbox limits of `jam run` (wall clock, storage quota) as the server reads them from this
   * environment; throws naming a bad setting. Absent: the settings' defaults.
   */
  runLimits?: () => { wallClockMs: number; maxServiceStorageBytes: number; maxServiceStorageItems: number };
  /** ms clock, for elapsed times (tests may pin it) */
  now?: () => number;
}

/** Options every command accepts (`jam --url ... --token ... --json <command>`). */
export interface GlobalOptions {
  url: string;
  token?: string;
  json: boolean;
}

/** A wrong invocation (bad argument, missing file): printed as is, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** A command ran but its outcome is a failure (a package ended `failed`, the demo check failed): exit code 1. */
export class CliFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** true when the command already printed the failure, so the runner only sets the exit code */
    readonly reported = false,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/**
 * An API error with a hint on what to do about it (`jam admin` on 401/403/404): printed as the
 * server's code and message, then `jam: hint: ...` (not under --json); exit code 1.
 */
export class CliHintedError extends Error {
  constructor(
    readonly error: JamApiError,
    readonly hint: string,
  ) {
    super(error.message);
    this.name = 'CliHintedError';
  }
}

/** What a command action gets: the environment, the parsed global options and a client. */
export interface CommandContext {
  env: CliEnvironment;
  global: GlobalOptions;
  client: JamClient;
  /** stdout line */
  out(line: string): void;
  /** stderr line (progress, notes) */
  err(line: string): void;
  /** prints `value` as JSON on stdout (bigints as numbers when safe, else strings) */
  json(value: unknown): void;
}

/** Builds the `CommandContext` of the command being run from its (global) options. */
export function commandContext(env: CliEnvironment, cmd: Command): CommandContext {
  const opts = cmd.optsWithGlobals<{ url: string; token?: string; json?: boolean }>();
  const global: GlobalOptions = { url: opts.url, json: opts.json === true, ...(opts.token ? { token: opts.token } : {}) };
  let client: JamClient;
  try {
    client = new JamClient({ baseUrl: global.url, ...(global.token ? { token: global.token } : {}) });
  } catch (err) {
    throw new CliUsageError(`--url: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    env,
    global,
    client,
    out: (line) => env.stdout.write(`${line}\n`),
    err: (line) => env.stderr.write(`${line}\n`),
    json: (value) => env.stdout.write(`${toJson(value)}\n`),
  };
}

/** JSON with bigints written as numbers when they fit in a double exactly, else as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v), 2);
}
