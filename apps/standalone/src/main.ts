import { ConfigError, loadConfig, processEnvironment } from '@jam/config';
import { startProcessTracing } from '@jam/telemetry';

/**
 * Process entry point of the launcher: `JAM_ROLES` picks the roles (default all of them, the
 * embedded laptop mode). Each role also has an entry of its own (`apps/<role>/src/main.ts`).
 * Stops cleanly on SIGTERM/SIGINT; a second signal forces exit (runJamProcess of `@jam/runtime`).
 */
function main(): void {
  const env = processEnvironment();
  let stopTracing: () => Promise<void>;
  try {
    // Tracing starts before the launcher is loaded: the http, pg and ioredis instrumentations patch
    // those modules when they are required, which the launcher's imports (express, TypeORM, BullMQ)
    // do (docs/observability.md). startRoles() finds it running and leaves it to us.
    const config = loadConfig(env);
    stopTracing = startProcessTracing(config.roles, config.otlpEndpoint);
  } catch (err) {
    process.stderr.write(`jam: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { runJamProcess } = require('@jam/runtime') as typeof import('@jam/runtime');
  const { launch } = require('./launcher') as typeof import('./launcher');
  /* eslint-enable @typescript-eslint/no-require-imports */
  void runJamProcess(() => launch(env), stopTracing);
}

main();
