/**
 * A job whose name is unknown or whose payload fails its schema. Deterministic: retrying cannot
 * fix it, so every driver treats it as final (BullMQ `UnrecoverableError`, docs/architecture.md section 12, habit 5).
 *
 * `path` is the location of the first bad field inside the payload (`['signature']`,
 * `[]` for the payload itself); `message` names it as `payload.<path>`.
 */
export class MalformedJobError extends Error {
  readonly code = 'malformed_job' as const;
  /** Marker the queue drivers read: a final error is never retried. */
  readonly final = true as const;

  constructor(
    readonly jobName: string,
    readonly path: ReadonlyArray<string | number>,
    readonly reason: string,
  ) {
    super(`malformed job ${jobName}: ${formatPath(path)}: ${reason}`);
    this.name = 'MalformedJobError';
  }
}

function formatPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${p}`), 'payload');
}
