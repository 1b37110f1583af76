import { assertAttesterIndex } from './queue-names.constants';
import { hashSchema } from './job-payload.schema';

/**
 * Deterministic job ids (docs/architecture.md section 6): the same work always gets the same id, so a
 * duplicate enqueue collapses into the job that already exists.
 *
 * WARNING: changing a format below makes every queued job look missing to the reconciler and
 * lets duplicates of in-flight work through. BullMQ forbids ':' in custom ids, hence '-'.
 * Hashes must be canonical (0x + 64 lowercase hex) so one hash never yields two ids.
 *
 * @throws RangeError on a non-canonical hash or a bad attester index.
 */
export function refineJobId(packageHash: string, attesterIndex: number): string {
  assertHash(packageHash, 'packageHash');
  assertAttesterIndex(attesterIndex);
  return `refine-${packageHash}-a${attesterIndex}`;
}

/** `attest-<reportHash>-a<index>`; see {@link refineJobId}. */
export function attestationJobId(reportHash: string, attesterIndex: number): string {
  assertHash(reportHash, 'reportHash');
  assertAttesterIndex(attesterIndex);
  return `attest-${reportHash}-a${attesterIndex}`;
}

/** `accumulate-<reportHash>`; see {@link refineJobId}. */
export function accumulateJobId(reportHash: string): string {
  assertHash(reportHash, 'reportHash');
  return `accumulate-${reportHash}`;
}

/**
 * `<task>-<bucket>` for a janitor task (`reconcile-29457`), `bucket` = floor(now_ms / interval_ms):
 * one run per task and interval however many janitor replicas tick. See {@link refineJobId}.
 * @throws RangeError when `bucket` is not a non-negative safe integer.
 */
export function janitorTaskJobId(task: string, bucket: number): string {
  if (!Number.isSafeInteger(bucket) || bucket < 0) throw new RangeError(`bucket must be a non-negative integer, got ${String(bucket)}`);
  return `${task}-${bucket}`;
}

function assertHash(value: string, what: string): void {
  if (!hashSchema.safeParse(value).success) {
    throw new RangeError(`${what} must be 0x + 64 lowercase hex digits, got ${JSON.stringify(value)}`);
  }
}
