/**
 * Fair sharing between tenants (issue 7 part 4; docs/fairness.md).
 *
 * Every job of a work package carries the package's queue priority: a number in
 * 1..{@link MAX_JOB_PRIORITY}, lower runs first, equal priorities run in arrival order (FIFO).
 * It is fixed when the package is accepted, from the submitting principal's backlog: the refine
 * gas declared by that principal's packages still in flight (pending .. accumulating) at that
 * moment, in units of {@link PRIORITY_GAS_UNIT}, plus one, at most {@link PACKAGE_PRIORITY_CAP}.
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
 * Gas (refine gas declared by packages in flight) that moves a submitter one priority level back:
 * 1e8 gas, about 80 ms of guest time per attester at the cost table's 1.2e9 gas/s. An ordinary
 * package (the word-count demo declares 1e7) costs a tenth of a level; one package at G_R = 5e9,
 * 50 levels.
 */
export const PRIORITY_GAS_UNIT = 100_000_000n;

/**
 * Largest priority a package gets: a submitter with this many levels of gas in flight (1e10 gas,
 * two packages at G_R) is flooding, and floods share one level, where their packages run FIFO.
 * Without the cap a package accepted at a peak backlog would keep its large number after the
 * backlog drained and wait behind every later package of its own submitter (a static priority
 * cannot age); with it, such a package waits only behind submitters with less in flight.
 */
export const PACKAGE_PRIORITY_CAP = 100;

/**
 * Queue priority of a package whose submitter already has packages in flight declaring
 * `inFlightRefineGas` of refine gas in total (not counting this package). Weighing the backlog by
 * declared gas, not by package count, keeps a tenant sending many small packages ahead of one
 * sending a few heavy ones: what is shared is executor time.
 * @param inFlightRefineGas sum of the refine gas limits (gas) of the submitter's packages in
 *   status pending .. accumulating
 * @returns `1 + inFlightRefineGas / PRIORITY_GAS_UNIT` (rounded down), at most {@link PACKAGE_PRIORITY_CAP}
 * @throws RangeError when `inFlightRefineGas` is negative
 */
export function packageQueuePriority(inFlightRefineGas: bigint): number {
  if (inFlightRefineGas < 0n) throw new RangeError(`in-flight refine gas must not be negative, got ${inFlightRefineGas}`);
  const levels = inFlightRefineGas / PRIORITY_GAS_UNIT;
  return levels >= BigInt(PACKAGE_PRIORITY_CAP - 1) ? PACKAGE_PRIORITY_CAP : 1 + Number(levels);
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
