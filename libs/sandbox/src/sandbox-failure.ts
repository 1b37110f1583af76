import { SandboxExecutorError } from './sandbox.pool';

/**
 * A sandbox failure that is not a deterministic guest result (docs/sandbox.md, failure handling):
 * - `wall_clock`: the pool's wall-clock backstop killed the run (`timedOut` outcome);
 * - `executor`: the executor crashed or was killed during the job, or answered an engine fault
 *   or another error instead of an outcome (`SandboxExecutorError`).
 * Such a run is never recorded as the guest's result; it is retried, and counted durably so a
 * package whose code keeps causing it ends after `max_sandbox_failures` (accumulate wall-clock
 * kills: `max_accumulate_timeouts`).
 */
export type SandboxFailureKind = 'wall_clock' | 'executor';

/**
 * Classifies what a `SandboxPool.refine` / `accumulate` call threw: `executor` for a
 * `SandboxExecutorError` (also recognised by name, in case two copies of this module are loaded),
 * undefined for anything else (pool closed or not started: this process is stopping or broken, not
 * the package; argument errors: caller bugs). A `timedOut` outcome is not thrown: callers map it to
 * `wall_clock` themselves.
 */
export function sandboxFailureKind(err: unknown): 'executor' | undefined {
  if (err instanceof SandboxExecutorError) return 'executor';
  if (err instanceof Error && err.name === 'SandboxExecutorError') return 'executor';
  return undefined;
}
