import * as path from 'node:path';
import { ConfigError, loadConfig, processEnvironment } from '@jam/config';
import { startTracing } from '@jam/telemetry';

/**
 * Process entry point for every deployment: `JAM_ROLES` picks the apps (default all of them, the
 * embedded laptop mode). Stops cleanly on SIGTERM/SIGINT; a second signal forces exit.
 */
/** Longest a signalled shutdown may take before the process exits anyway (ms). */
const SHUTDOWN_TIMEOUT_MS = 25_000;

async function main(): Promise<void> {
  let stopTracing: () => Promise<void> = async () => undefined;
  try {
    // Tracing starts before the launcher is loaded: the http, pg and ioredis instrumentations patch
    // those modules when they are required, which the launcher's imports (express, TypeORM, BullMQ)
    // do (docs/observability.md). launch() finds it running and leaves it to us.
    const config = loadConfig(processEnvironment());
    stopTracing = startTracing({
      serviceName: config.roles.length === 1 ? `jam-${config.roles[0]}` : 'jam',
      otlpEndpoint: config.otlpEndpoint,
      enabled: config.otlpEndpoint !== undefined,
    });
  } catch (err) {
    process.stderr.write(`jam: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { launch, StartupError } = require('./launcher') as typeof import('./launcher');
  let running;
  try {
    running = await launch(processEnvironment());
  } catch (err) {
    if (err instanceof StartupError) {
      process.stderr.write(`jam: ${err.message}\n`);
      process.exit(1);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`jam: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`jam: failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
  if (running.port !== undefined) {
    const url = `http://${running.config.host === '0.0.0.0' ? '127.0.0.1' : running.config.host}:${running.port}`;
    process.stderr.write(`\nJAM is up: ${url} (roles: ${running.config.roles.join(', ')}; mode: ${running.config.mode})\n`);
    if (running.devTokenFile) {
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
  }
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
    running!
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

void main();
