import { DomainError } from '@jam/domain';
import { MAX_SERVICE_CODE_BYTES } from './host-abi';
import { SandboxExecutorError, SandboxPool, type SandboxPoolOptions } from './sandbox.pool';

/** A warning sink (`logger.warn` of pino: fields first, then the message). */
export type CodeCheckWarn = (fields: Record<string, unknown>, message: string) => void;

/**
 * The gateway's registration checks (`GatewayDeps.checkServiceCode`) on a pool of executors of
 * their own, never the gateway's event loop and never queued behind (or ahead of) refine and
 * accumulate jobs (docs/sandbox.md).
 */
export interface CodeChecks {
  /**
   * Validates, meters, compiles every function and instantiates `code` in an executor under the
   * same heap, stack and wall clock as a job. Fails closed: an executor that dies during the check
   * (typically its heap ran out) refuses the code too, since the first job would die the same way.
   * @throws DomainError('invalid_code', reason, { reason }) when the code would not run (over
   *   MAX_SERVICE_CODE_BYTES, GP W_C, included); Error when the pool is closed or has no executor
   */
  check(codeHash: string, code: Uint8Array): Promise<void>;
  /** Stops the executors. */
  close(): Promise<void>;
}

/**
 * Starts a pool of executors for jobs (refine, accumulate) and returns it. Warns (setting
 * `sandbox_uid`) when the executors cannot run as an unprivileged user.
 * @throws the pool's start error (e.g. a sandbox_uid that needs root)
 */
export async function startSandboxPool(options: SandboxPoolOptions, warn: CodeCheckWarn): Promise<SandboxPool> {
  const pool = new SandboxPool(options);
  await pool.start();
  const fallback = pool.identityFallback();
  if (fallback !== undefined) warn({ setting: 'sandbox_uid' }, `sandbox executors do not run as an unprivileged user: ${fallback}`);
  const nice = pool.niceFallback();
  if (nice !== undefined) warn({ setting: 'sandbox_general_nice' }, `general sandbox executors run at the default CPU priority: ${nice}`);
  return pool;
}

/** What {@link sharedSandboxPool} needs of the process (the runtime's RoleHost has it). */
export interface SandboxPoolHost {
  /** One resource per key for the whole process, created by the first caller. */
  shared<T>(key: string, create: () => Promise<T>): Promise<T>;
  /** A shutdown step that runs after the queue has drained. */
  afterDrain(stop: () => Promise<void>): void;
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

/**
 * The process's one pool of executors for jobs, shared by the refine-worker and accumulate-worker
 * roles when both run in it (the first caller's `options` start it); closed after the queue has
 * drained, since jobs in flight use it.
 * @throws the pool's start error
 */
export function sharedSandboxPool(host: SandboxPoolHost, options: SandboxPoolOptions): Promise<SandboxPool> {
  return host.shared('sandbox', async () => {
    const pool = await startSandboxPool(options, (fields, message) => host.logger.warn(fields, message));
    host.afterDrain(() => pool.close());
    return pool;
  });
}

/**
 * Starts a code-check pool of `options.size` executors and returns its {@link CodeChecks}. Warns
 * (setting `sandbox_uid`) when the executors cannot run as an unprivileged user.
 * @throws the pool's start error (e.g. a sandbox_uid that needs root)
 */
export async function startCodeChecks(options: SandboxPoolOptions, warn: CodeCheckWarn): Promise<CodeChecks> {
  const pool = new SandboxPool(options);
  await pool.start();
  const fallback = pool.identityFallback();
  if (fallback !== undefined) warn({ setting: 'sandbox_uid' }, `code-check executors do not run as an unprivileged user: ${fallback}`);
  return { check: (codeHash, code) => checkServiceCode(pool, codeHash, code, warn), close: () => pool.close() };
}

/** One registration check on `pool` (see {@link CodeChecks.check}). */
async function checkServiceCode(pool: SandboxPool, codeHash: string, code: Uint8Array, warn: CodeCheckWarn): Promise<void> {
  if (code.length > MAX_SERVICE_CODE_BYTES) {
    const reason = `code is ${code.length} bytes, over the ${MAX_SERVICE_CODE_BYTES}-byte limit (GP W_C)`;
    throw new DomainError('invalid_code', reason, { reason });
  }
  let reason: string;
  try {
    const outcome = await pool.check(codeHash, code);
    if (outcome.valid) return;
    reason = outcome.reason;
    if (outcome.timedOut === true) warn({ codeHash, reason }, 'registration check hit the wall clock; code refused');
  } catch (err) {
    if (!(err instanceof SandboxExecutorError)) throw err;
    warn({ codeHash, error: err.message }, 'sandbox executor died while checking service code; code refused');
    reason = `checking the code stopped the executor (${err.message.replace(/^sandbox executor failed: /, '')}); it would stop it at run time too`;
  }
  throw new DomainError('invalid_code', reason, { reason });
}
