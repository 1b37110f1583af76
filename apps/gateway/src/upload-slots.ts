/**
 * Uploads in flight per principal in one gateway process (`max_concurrent_uploads`): a slow
 * upload holds its slot until its handler ends (body stored, refused, or cut by
 * `body_idle_timeout_ms` / `request_timeout_ms`). Not shared between replicas: with N gateway
 * replicas a principal may hold up to N × the limit (docs/security.md, residual risks).
 */
export class UploadSlots {
  private readonly counts = new Map<string, number>();

  /**
   * Takes a slot for `principal` when it holds fewer than `limit`.
   * @returns the release function (idempotent), or undefined when the principal is at its limit.
   */
  tryAcquire(principal: string, limit: number): (() => void) | undefined {
    const n = this.counts.get(principal) ?? 0;
    if (n >= limit) return undefined;
    this.counts.set(principal, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(principal) ?? 1) - 1;
      if (left <= 0) this.counts.delete(principal);
      else this.counts.set(principal, left);
    };
  }

  /** Uploads `principal` has in flight now. */
  inFlight(principal: string): number {
    return this.counts.get(principal) ?? 0;
  }
}
