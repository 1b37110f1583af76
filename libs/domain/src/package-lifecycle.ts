/**
 * The work-package lifecycle: statuses, the transitions the pipeline makes between them, the
 * terminal sets and the failure codes a failed package carries. Pure data (no IO): every writer
 * (refine, attestation and accumulate processors, the admin controller, the repository) and the
 * client read it from here. See docs/architecture.md "Package lifecycle".
 *
 * ```
 * pending -> refining -> attesting -> attested -> accumulating -> accumulated
 *    \__________\____________\-> disputed -> attested (majority or admin) | failed (admin)
 *    \__________\____________\-> failed (refine gave up)      attested/accumulating -> failed
 * ```
 *
 * WARNING: statuses are stored in `work_package.status` (a CHECK constraint lists them) and
 * failure codes in `work_package.error_code`; both are shown to clients. Adding a status needs a
 * migration; renaming either breaks stored rows and clients.
 */

/** Package statuses, in pipeline order. */
export const PACKAGE_STATUSES = ['pending', 'refining', 'attesting', 'attested', 'accumulating', 'accumulated', 'failed', 'disputed'] as const;
/** One package status. */
export type PackageStatus = (typeof PACKAGE_STATUSES)[number];

/**
 * Statuses after which a package never changes again by itself: status streams end there and
 * clients stop waiting. `disputed` changes only when an admin resolves it (or, while attesters
 * still sign, when one report reaches a strict majority).
 */
export const TERMINAL_PACKAGE_STATUSES = ['accumulated', 'failed', 'disputed'] as const satisfies readonly PackageStatus[];

/**
 * Statuses with no work left for any worker: refine and accumulate jobs of such a package are
 * no-ops, and retention deletes such packages after `retention_days`. (`disputed` is not here:
 * it is kept until an admin resolves it.)
 */
export const FINISHED_PACKAGE_STATUSES = ['accumulated', 'failed'] as const satisfies readonly PackageStatus[];

/**
 * Statuses of a package still in refine or attestation (no attested report yet): the reconciler
 * re-enqueues their missing refine and attestation jobs.
 */
export const REFINE_PHASE_STATUSES = ['pending', 'refining', 'attesting'] as const satisfies readonly PackageStatus[];

/**
 * Statuses of a package whose attested report waits for (or is in) accumulate: the accumulate
 * job runs only then, and the reconciler re-enqueues it when missing.
 */
export const ACCUMULATE_PHASE_STATUSES = ['attested', 'accumulating'] as const satisfies readonly PackageStatus[];

/** Statuses that count against a submitter's `max_pending_packages` quota. */
export const IN_FLIGHT_PACKAGE_STATUSES = ['pending', 'refining', 'attesting', 'attested', 'accumulating'] as const satisfies readonly PackageStatus[];

/**
 * Codes in `error` of a `failed` or `disputed` package (`GET /jam/packages/{hash}`), with who sets them:
 * - `refine_sandbox_failure`, `refine_timeout`, `refine_blob_unavailable`: refine, when too few
 *   attesters can still sign after giving up on failures without a guest result
 *   (`max_sandbox_failures`; timeout when every one that gave up was stopped by the wall clock,
 *   blob_unavailable when every one could not read the code or an extrinsic from the blob store);
 * - `conflicting_reports`: attestation, on a dispute (the package is `disputed`);
 * - `dispute_rejected`: an admin rejected a disputed package;
 * - `accumulate_timeout`, `accumulate_sandbox_failure`, `accumulate_blob_unavailable`,
 *   `storage_over_limit`: accumulate (`max_accumulate_timeouts`, `max_sandbox_failures` for
 *   executor failures and for the service code unreadable from the blob store, a storage too
 *   large for an executor).
 */
export const PACKAGE_FAILURE_CODES = [
  'refine_sandbox_failure',
  'refine_timeout',
  'refine_blob_unavailable',
  'conflicting_reports',
  'dispute_rejected',
  'accumulate_timeout',
  'accumulate_sandbox_failure',
  'accumulate_blob_unavailable',
  'storage_over_limit',
] as const;
/** Stable code of why a package failed or is disputed. */
export type PackageFailureCode = (typeof PACKAGE_FAILURE_CODES)[number];

/** One allowed compare-and-set move: from any of `from` to `to`. */
export interface PackageTransition {
  readonly from: readonly PackageStatus[];
  readonly to: PackageStatus;
}

/**
 * Every status change the pipeline makes, by name. Writers pass one of these to the repository's
 * compare-and-set `transition(hash, from, to)`, so no other move can be written.
 */
export const PACKAGE_TRANSITIONS = {
  /** Refine worker starts on a package (the first attester to start moves it). */
  startRefine: { from: ['pending'], to: 'refining' },
  /** Attestation: the first valid signature is recorded. */
  recordAttestation: { from: ['pending', 'refining'], to: 'attesting' },
  /**
   * Attestation: one report holds `attestation_threshold` signatures (from `disputed` only when
   * it is a strict majority of the attester set, GP-style verdict).
   */
  attest: { from: ['pending', 'refining', 'attesting', 'disputed'], to: 'attested' },
  /** Attestation: conflicting reports for one package (`conflicting_reports`). */
  dispute: { from: ['pending', 'refining', 'attesting'], to: 'disputed' },
  /** Refine: too few attesters can still sign (`refine_sandbox_failure` / `refine_timeout` / `refine_blob_unavailable`). */
  failRefine: { from: ['pending', 'refining', 'attesting'], to: 'failed' },
  /** Accumulate worker starts on an attested package. */
  startAccumulate: { from: ['attested'], to: 'accumulating' },
  /** Accumulate: every service's accumulation applied. */
  finishAccumulate: { from: ['accumulating', 'attested'], to: 'accumulated' },
  /** Accumulate: a host verdict fails the package (`accumulate_timeout`, ...). */
  failAccumulate: { from: ['accumulating', 'attested'], to: 'failed' },
  /** Admin accepts one report of a disputed package. */
  acceptDispute: { from: ['disputed'], to: 'attested' },
  /** Admin rejects a disputed package (`dispute_rejected`). */
  rejectDispute: { from: ['disputed'], to: 'failed' },
} as const satisfies Readonly<Record<string, PackageTransition>>;

/** Name of one lifecycle transition (`startRefine`, `attest`, ...). */
export type PackageTransitionName = keyof typeof PACKAGE_TRANSITIONS;

/**
 * Failure codes a retry (`POST /jam/packages/{hash}/retry`, `POST /admin/packages/{hash}/retry`)
 * may run again, with the phase it restarts. None is a deterministic guest outcome: each is a host
 * verdict that depends on the machine (wall clock, executor crashes) or on state an operator can
 * fix (`storage_over_limit`). `conflicting_reports` and `dispute_rejected` are verdicts a rerun
 * cannot change. WARNING: clients match on these codes.
 */
export const RETRYABLE_FAILURE_CODES = {
  refine_timeout: 'refine',
  refine_sandbox_failure: 'refine',
  // the blob store lost or corrupted the code or an extrinsic: an operator restores it, then retries
  refine_blob_unavailable: 'refine',
  accumulate_timeout: 'accumulate',
  accumulate_sandbox_failure: 'accumulate',
  accumulate_blob_unavailable: 'accumulate',
  storage_over_limit: 'accumulate',
} as const satisfies Partial<Record<PackageFailureCode, 'refine' | 'accumulate'>>;
/** A failure code a retry may run again. */
export type RetryableFailureCode = keyof typeof RETRYABLE_FAILURE_CODES;

/**
 * The moves of a retry: the only way out of `failed`, an operator's action after fixing the cause,
 * never a pipeline move (so not in {@link PACKAGE_TRANSITIONS}). Each goes to the first status of
 * the phase that failed; the repository clears that phase's failure counts in the same transaction.
 */
export const PACKAGE_RETRY_TRANSITIONS = {
  /** Refine failure: the attesters refine it again. */
  refine: { from: ['failed'], to: 'pending' },
  /** Accumulate failure: the accumulations that wrote nothing run again. */
  accumulate: { from: ['failed'], to: 'attested' },
} as const satisfies Readonly<Record<'refine' | 'accumulate', PackageTransition>>;

/** The phase a retry of a package failed with `code` restarts, or undefined when it is not retryable. */
export function retryPhaseOf(code: string | null): 'refine' | 'accumulate' | undefined {
  return code !== null && Object.hasOwn(RETRYABLE_FAILURE_CODES, code) ? RETRYABLE_FAILURE_CODES[code as RetryableFailureCode] : undefined;
}

/** True for a known status string. */
export function isPackageStatus(value: string): value is PackageStatus {
  return (PACKAGE_STATUSES as readonly string[]).includes(value);
}

/** True for `accumulated`, `failed` and `disputed` ({@link TERMINAL_PACKAGE_STATUSES}). */
export function isTerminalPackageStatus(status: string): boolean {
  return (TERMINAL_PACKAGE_STATUSES as readonly string[]).includes(status);
}

/** True for `accumulated` and `failed` ({@link FINISHED_PACKAGE_STATUSES}). */
export function isFinishedPackageStatus(status: string): boolean {
  return (FINISHED_PACKAGE_STATUSES as readonly string[]).includes(status);
}

/** True when some named transition moves a package from `from` to `to`. */
export function canTransitionPackage(from: PackageStatus, to: PackageStatus): boolean {
  return Object.values(PACKAGE_TRANSITIONS).some((t) => t.to === to && (t.from as readonly PackageStatus[]).includes(from));
}
