import { loadConfig, type AppConfig } from '@jam/config';
import { startRoles, type RoleModule, type RunningJam } from '@jam/runtime';
import { startCodeChecks } from '@jam/sandbox';
import { refineWorkerRole } from '../../refine-worker/src';
import { attestationRole } from '../../attestation/src';
import { accumulateWorkerRole } from '../../accumulate-worker/src';
import { janitorRole } from '../../janitor/src';
import { gatewayRole } from '../../gateway/src';

export { StartupError, type RunningJam } from '@jam/runtime';

/**
 * The role modules `JAM_ROLES` selects, in start order: workers first, the gateway last (it
 * accepts work once everything behind it runs). The same modules the role entry points
 * (`apps/<role>/src/main.ts`) run alone.
 */
export function selectRoles(config: AppConfig): RoleModule[] {
  const all = [refineWorkerRole(), attestationRole(), accumulateWorkerRole(), janitorRole(), gatewayRole(startCodeChecks)];
  return all.filter((m) => config.roles.includes(m.role));
}

/**
 * The composition root of the launcher (`node dist/apps/standalone/src/main.js`): reads the config
 * and starts the roles of `JAM_ROLES` in one process (`startRoles` of `@jam/runtime` opens the
 * stores they share). Embedded mode (no DATABASE_URL/REDIS_URL) runs PGlite behind a local socket
 * and the in-process queue, with the same role modules.
 * @throws ConfigError for a bad setting; StartupError naming the fix; Error when a store cannot be opened.
 */
export async function launch(env: Readonly<Record<string, string | undefined>>, opts: { logDestination?: NodeJS.WritableStream } = {}): Promise<RunningJam> {
  const config = loadConfig(env);
  return startRoles(config, selectRoles(config), opts);
}
