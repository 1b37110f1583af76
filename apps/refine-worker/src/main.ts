import { ConfigError, loadRoleConfig, processEnvironment, type AppConfig } from '@jam/config';
import { startProcessTracing } from '@jam/telemetry';

/**
 * Entry point of the refine-worker role alone: `node dist/apps/refine-worker/src/main.js` is the process
 * `JAM_ROLES=refine-worker node dist/apps/standalone/src/main.js` starts (production mode: DATABASE_URL
 * and REDIS_URL required). Exit 2 for a bad setting, 1 for a failed start; SIGTERM/SIGINT stop it.
 */
function main(): void {
  let config: AppConfig;
  let stopTracing: () => Promise<void>;
  try {
    config = loadRoleConfig(processEnvironment(), 'refine-worker');
    // Before the role's modules load: tracing patches pg, ioredis and http when they are required (docs/observability.md).
    stopTracing = startProcessTracing(config.roles, config.otlpEndpoint);
  } catch (err) {
    process.stderr.write(`jam: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { runJamProcess, startRoles } = require('@jam/runtime') as typeof import('@jam/runtime');
  const { refineWorkerRole } = require('./refine-worker.role') as typeof import('./refine-worker.role');
  /* eslint-enable @typescript-eslint/no-require-imports */
  void runJamProcess(() => startRoles(config, [refineWorkerRole()]), stopTracing);
}

main();
