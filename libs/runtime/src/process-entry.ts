import * as path from 'node:path';
import { ConfigError } from '@jam/config';
import type { RunningJam } from './start-roles';
import { StartupError } from './startup.error';

/** Longest a signalled shutdown may take before the process exits anyway (ms). */
const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * The rest of every entry point (`apps/<role>/src/main.ts`, `apps/standalone/src/main.ts`) once
 * config is loaded and tracing started: starts the process with `start`, prints where it is up
 * (and the dev token, embedded mode), and stops cleanly on SIGTERM/SIGINT (a second signal
 * forces exit 130; a shutdown longer than 25 s exits 1). Exit codes: 2 for a ConfigError, 1 for a
 * StartupError (message only) or any other start failure (with its stack).
 * @param stopTracing flushes spans; run after the roles stopped
 */
export async function runJamProcess(start: () => Promise<RunningJam>, stopTracing: () => Promise<void>): Promise<void> {
  let running: RunningJam;
  try {
    running = await start();
  } catch (err) {
    if (err instanceof StartupError) exitWith(1, `jam: ${err.message}\n`);
    if (err instanceof ConfigError) exitWith(2, `jam: ${err.message}\n`);
    exitWith(1, `jam: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  }
  if (running.port !== undefined) printBanner(running, running.port);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`jam: ${signal} received, stopping\n`);
    // A shutdown step that never ends (e.g. a queue still reconnecting to an unreachable Redis)
    // must not keep the process alive: give up before Kubernetes' default 30 s grace period.
    setTimeout(() => {
      process.stderr.write(`jam: shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    // Spans of the shutdown itself are flushed last.
    running
      .stop()
      .then(
        () => stopTracing().then(() => 0),
        () => stopTracing().then(() => 1),
      )
      .then(
        (code) => process.exit(code),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Writes `message` to stderr and exits with `code`. */
function exitWith(code: number, message: string): never {
  process.stderr.write(message);
  process.exit(code);
}

/** Where the gateway is up, and (embedded dev token) how to try it, on stderr. */
function printBanner(running: RunningJam, port: number): void {
  const url = `http://${running.config.host === '0.0.0.0' ? '127.0.0.1' : running.config.host}:${port}`;
  process.stderr.write(`\nJAM is up: ${url} (roles: ${running.config.roles.join(', ')}; mode: ${running.config.mode})\n`);
  if (!running.devTokenFile) return;
  // The CLI finds the server and token by the same settings; name the ones that are not the defaults.
  const defaultDir = path.resolve('.jam-data');
  const urlPrefix =
    (url === 'http://127.0.0.1:8080' ? '' : `JAM_URL=${url} `) + (running.config.dataDir === defaultDir ? '' : `JAM_DATA_DIR=${running.config.dataDir} `);
  process.stderr.write(
    `Dev token in ${running.devTokenFile}. Try:\n` +
      `  curl -H "Authorization: Bearer $(cat ${running.devTokenFile})" ${url}/jam/services\n` +
      `  ${urlPrefix}npm run demo        # in a second terminal: the whole flow on a real Wasm service\n\n`,
  );
}
