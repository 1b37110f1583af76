import { DomainError } from '@jam/domain';

/** Bounds on registration code checks in one gateway process (settings in libs/config). */
export interface CodeCheckLimits {
  /** Checks one principal may have running or queued at once (`max_code_checks_per_principal`). */
  maxPerPrincipal: number;
  /** Checks running or queued at once, all principals (`max_queued_code_checks`). */
  maxQueued: number;
  /** `Retry-After` answered with a refusal (s): about one check's wall clock. */
  retryAfterSeconds: number;
}

/** Why a check was refused: the caller's own cap, or the process-wide queue bound. */
export type CodeCheckRefusal = 'code_checks' | 'code_check_queue';

/**
 * Admission control for the registration check (docs/security.md, "Service code checks"). A check
 * runs in a sandbox executor for up to a wall clock, so without bounds one tenant could queue
 * thousands of hostile modules and make every other tenant's registration wait behind them, and
 * the gateway would hold every queued module's bytes. A refused check answers 429 `rate_limited`
 * with `details.scope` `code_checks` (this principal's cap) or `code_check_queue` (all principals),
 * and the caller sets `Retry-After: retryAfterSeconds`. Counts are per gateway process.
 */
export class CodeCheckLimiter {
  private readonly perPrincipal = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: CodeCheckLimits) {}

  /** Checks running or queued now (for tests and metrics). */
  get inFlight(): number {
    return this.total;
  }

  /**
   * Runs `check` for `principal` if both bounds allow it, and releases its place when it settles.
   * @throws DomainError('rate_limited', ..., { scope, limit, retry_after_seconds }) without running
   *   `check` when a bound is reached; whatever `check` throws otherwise
   */
  async run<T>(principal: string, check: () => Promise<T>): Promise<T> {
    const mine = this.perPrincipal.get(principal) ?? 0;
    const { maxPerPrincipal, maxQueued, retryAfterSeconds } = this.limits;
    if (mine >= maxPerPrincipal) {
      throw new DomainError('rate_limited', `at most ${maxPerPrincipal} code check(s) per principal may run at once; retry after ${retryAfterSeconds} s`, {
        scope: 'code_checks' satisfies CodeCheckRefusal,
        limit: maxPerPrincipal,
        retry_after_seconds: retryAfterSeconds,
      });
    }
    if (this.total >= maxQueued) {
      throw new DomainError(
        'rate_limited',
        `the gateway is checking ${this.total} service codes already (at most ${maxQueued}); retry after ${retryAfterSeconds} s`,
        {
          scope: 'code_check_queue' satisfies CodeCheckRefusal,
          limit: maxQueued,
          retry_after_seconds: retryAfterSeconds,
        },
      );
    }
    this.perPrincipal.set(principal, mine + 1);
    this.total++;
    try {
      return await check();
    } finally {
      this.total--;
      const left = (this.perPrincipal.get(principal) ?? 1) - 1;
      if (left > 0) this.perPrincipal.set(principal, left);
      else this.perPrincipal.delete(principal);
    }
  }
}
