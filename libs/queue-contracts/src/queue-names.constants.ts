/**
 * WARNING: queue names are stored in Redis keys / Postgres rows of every job already queued.
 * Renaming one strands those jobs (no worker will ever consume them again). Add a new name and
 * drain the old queue instead of editing a value here.
 */

/**
 * Refine queue of one attester: `refine-a<index>`. One queue per attester because each
 * attester's workers hold that attester's signing key (docs/architecture.md section 3).
 * @throws RangeError when `attesterIndex` is not a non-negative safe integer.
 */
export function refineQueueName(attesterIndex: number): `refine-a${number}` {
  assertAttesterIndex(attesterIndex);
  return `refine-a${attesterIndex}`;
}

/**
 * Express refine queue of one attester: `refine-express-a<index>`. It takes the refine jobs of
 * short packages only (declared refine gas at most {@link EXPRESS_REFINE_GAS}), consumed beside
 * `refine-a<index>` with slots of their own, so a short package never waits for a slot held by a
 * long refine (docs/fairness.md, "Express refine queues").
 * @throws RangeError when `attesterIndex` is not a non-negative safe integer.
 */
export function refineExpressQueueName(attesterIndex: number): `refine-express-a${number}` {
  assertAttesterIndex(attesterIndex);
  return `refine-express-a${attesterIndex}`;
}

/** Both refine queues of one attester (general first, then express), e.g. for queue boards and depth gauges. */
export function refineQueueNames(attesterIndex: number): [`refine-a${number}`, `refine-express-a${number}`] {
  return [refineQueueName(attesterIndex), refineExpressQueueName(attesterIndex)];
}

/** WARNING: see the file header; renaming strands queued jobs. */
export const ATTESTATION_QUEUE = 'attestation' as const;
/** WARNING: see the file header; renaming strands queued jobs. */
export const ACCUMULATE_QUEUE = 'accumulate' as const;
/** WARNING: see the file header; renaming strands queued jobs. */
export const JANITOR_QUEUE = 'janitor' as const;

/** Kind of a queue, as used to pick default job options. */
export type QueueKind = 'refine' | 'attestation' | 'accumulate' | 'janitor';

const REFINE_QUEUE_RE = /^refine-(express-)?a(0|[1-9][0-9]*)$/;

/** Kind of a queue name, or `undefined` for a name this contract does not know. */
export function queueKind(queue: string): QueueKind | undefined {
  if (REFINE_QUEUE_RE.test(queue)) return 'refine';
  if (queue === ATTESTATION_QUEUE) return 'attestation';
  if (queue === ACCUMULATE_QUEUE) return 'accumulate';
  if (queue === JANITOR_QUEUE) return 'janitor';
  return undefined;
}

export function assertAttesterIndex(attesterIndex: number): void {
  if (!Number.isSafeInteger(attesterIndex) || attesterIndex < 0) {
    throw new RangeError(`attester index must be a non-negative integer, got ${String(attesterIndex)}`);
  }
}
