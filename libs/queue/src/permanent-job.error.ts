/**
 * A deterministic failure (guest trap, out of gas, bad signature): retrying cannot help, so the
 * job fails at once (BullMQ `UnrecoverableError`, docs/architecture.md section 6). Carry a stable `code`.
 */
export class PermanentJobError extends Error {
  /** Marker the drivers read: a final error is never retried. */
  readonly final = true as const;

  constructor(
    message: string,
    readonly code: string = 'permanent_job_failure',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** True for errors that must not be retried: `PermanentJobError`, `MalformedJobError`, BullMQ's `UnrecoverableError`. */
export function isFinalJobError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (err as { final?: unknown }).final === true || err.name === 'UnrecoverableError';
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
