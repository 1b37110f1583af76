/**
 * Fair sharing between tenants (issue 7 part 4; docs/fairness.md).
 *
 * Every job of a work package carries the package's queue priority: a number in
 * 1..{@link MAX_JOB_PRIORITY}, lower runs first, equal priorities run in arrival order (FIFO).
 * It is fixed when the package is accepted, from the submitting principal's backlog: the number
 * of that principal's packages still in flight (pending .. accumulating) at that moment, plus one,
 * at most {@link PACKAGE_PRIORITY_CAP}.
 * A principal that floods the system gets ever larger numbers, while a principal with nothing
 * in flight gets 1 and overtakes the flood's waiting jobs at every hop (the three refine queues,
 * the attestation queue, the accumulate queue and the executor pool's own queue). This is
 * start-time fair queuing with the backlog as the virtual start time; it never idles a slot, so
 * one tenant alone still uses every executor.
 *
 * Jobs without a priority (janitor tasks) run before every prioritized job, as in BullMQ 6.7
 * (its wait list is served before its prioritized set; the in-process driver matches).
 *
 * WARNING: the priority is stored on the package row (`work_package.queue_priority`) and in every
 * queued job; changing the formula only affects packages accepted afterwards.
 */

/** Largest priority BullMQ 6.7 accepts (2^21 - 1): the range a job priority is checked against. */
export const MAX_JOB_PRIORITY = 2_097_151;

/**
 * Largest priority a package gets: a submitter with this many packages in flight or more is
 * flooding, and floods share one level, where their packages run FIFO. Without the cap a package
 * accepted at a peak backlog would keep its large number after the backlog drained and wait behind
 * every later package of its own submitter (a static priority cannot age); with it, such a package
 * waits only behind submitters with fewer than this many packages in flight.
 */
export const PACKAGE_PRIORITY_CAP = 100;

/**
 * Queue priority of a package whose submitter has `inFlight` unfinished packages besides it.
 * @param inFlight non-negative count of the submitter's packages in status pending .. accumulating
 * @returns `inFlight + 1`, at most {@link PACKAGE_PRIORITY_CAP}
 * @throws RangeError when `inFlight` is not a non-negative safe integer
 */
export function packageQueuePriority(inFlight: number): number {
  if (!Number.isSafeInteger(inFlight) || inFlight < 0) throw new RangeError(`in-flight count must be a non-negative integer, got ${String(inFlight)}`);
  return Math.min(PACKAGE_PRIORITY_CAP, inFlight + 1);
}

/**
 * Checks a job priority: an integer in 1..MAX_JOB_PRIORITY.
 * @throws RangeError otherwise
 */
export function assertJobPriority(priority: number): void {
  if (!Number.isSafeInteger(priority) || priority < 1 || priority > MAX_JOB_PRIORITY) {
    throw new RangeError(`job priority must be an integer in 1..${MAX_JOB_PRIORITY}, got ${String(priority)}`);
  }
}
