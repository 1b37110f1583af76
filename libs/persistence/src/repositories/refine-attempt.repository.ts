import type { DataSource } from 'typeorm';
import { hashToBytes } from '../bytes-hex';
import { queryOne, queryRows, type SqlTarget } from '../sql-runner';

/**
 * Kind of a counted refine failure: the sandbox wall clock, the executor (crash, engine fault), or
 * `blob`: the code or an extrinsic could not be read from the blob store (missing, corrupted, store
 * error). None of them is a guest result.
 */
export type RefineFailureKind = 'wall_clock' | 'executor' | 'blob';

/** One attester's counted failures for one package. */
export interface RefineAttemptRecord {
  attesterIndex: number;
  /** every counted failure (executor and wall clock) */
  failures: number;
  /** of `failures`, the wall-clock kills */
  wallClockFailures: number;
  lastKind: RefineFailureKind;
  lastError: string | null;
  /** the attester gave up on the package (max_sandbox_failures reached) */
  exhausted: boolean;
}

/** Result of {@link RefineAttemptRepository.recordFailure}. */
export interface RefineFailureResult {
  /** Failures counted for (package, attester) after this call. */
  failures: number;
  /** The attester has given up on the package (this call or an earlier one reached the bound). */
  exhausted: boolean;
  /** True when this call made the attester give up. */
  exhaustedNow: boolean;
  /**
   * Attesters below `attesterCount` that gave up on the package without having signed a report of
   * it (an attestation row): they will never sign it. Read under the package row lock.
   */
  unableToSign: RefineAttemptRecord[];
}

/**
 * Table `refine_attempt`: failures that are not guest results (executor crash or engine fault,
 * wall-clock kill, a blob the run needs that the store could not give) per (package, attester), counted durably so a package whose code keeps
 * causing them ends (docs/sandbox.md, failure handling). Counted per attester because one
 * attester's executor may fail for reasons of its own (a sick machine): the package fails only
 * when the attesters still able to sign cannot reach the threshold (see `thresholdReachable`
 * in @jam/attest).
 */
export class RefineAttemptRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Counts one failure of refining `packageHash` as `attesterIndex`, in its own transaction, under
   * the package row lock (`SELECT ... FOR UPDATE` on work_package), so concurrent attesters count
   * and read the others' state one after the other. At `maxFailures` the attester gives up
   * (`exhausted_at`); an attester that already gave up is not counted again.
   * @param opts.maxFailures >= 1
   * @param opts.attesterCount n: attesters with an index >= n are ignored in `unableToSign`
   * @param opts.error message kept in `last_error` (truncated to 1,000 characters)
   * @returns null when the package does not exist
   * @throws RangeError for maxFailures < 1; database errors
   */
  async recordFailure(opts: {
    packageHash: string;
    attesterIndex: number;
    kind: RefineFailureKind;
    maxFailures: number;
    attesterCount: number;
    error?: string;
  }): Promise<RefineFailureResult | null> {
    if (!Number.isInteger(opts.maxFailures) || opts.maxFailures < 1) throw new RangeError(`maxFailures must be an integer >= 1, got ${opts.maxFailures}`);
    if (!Number.isInteger(opts.attesterIndex) || opts.attesterIndex < 0)
      throw new RangeError(`attesterIndex must be an integer >= 0, got ${opts.attesterIndex}`);
    const packageHash = hashToBytes(opts.packageHash, 'packageHash');
    const error = opts.error === undefined ? null : opts.error.slice(0, 1000);
    return this.ds.transaction(async (tx) => {
      const pkg = await queryOne(tx, 'SELECT 1 AS ok FROM work_package WHERE hash = $1 FOR UPDATE', [packageHash]);
      if (!pkg) return null;
      const before = await queryOne<{ failures: number; exhausted: boolean }>(
        tx,
        'SELECT failures, exhausted_at IS NOT NULL AS exhausted FROM refine_attempt WHERE package_hash = $1 AND attester_index = $2',
        [packageHash, opts.attesterIndex],
      );
      let failures = before?.failures ?? 0;
      let exhaustedNow = false;
      if (!before?.exhausted) {
        const row = await queryOne<{ failures: number; exhausted: boolean }>(
          tx,
          `INSERT INTO refine_attempt (package_hash, attester_index, failures, wall_clock_failures, last_kind, last_error, exhausted_at)
             VALUES ($1, $2, 1, $3, $4, $5, CASE WHEN 1 >= $6 THEN now() END)
           ON CONFLICT (package_hash, attester_index) DO UPDATE SET
             failures = refine_attempt.failures + 1,
             wall_clock_failures = refine_attempt.wall_clock_failures + EXCLUDED.wall_clock_failures,
             last_kind = EXCLUDED.last_kind,
             last_error = EXCLUDED.last_error,
             last_failure_at = now(),
             exhausted_at = CASE WHEN refine_attempt.failures + 1 >= $6 THEN now() END
           RETURNING failures, exhausted_at IS NOT NULL AS exhausted`,
          [packageHash, opts.attesterIndex, opts.kind === 'wall_clock' ? 1 : 0, opts.kind, error, opts.maxFailures],
        );
        failures = row?.failures ?? failures + 1;
        exhaustedNow = row?.exhausted === true;
      }
      const unableToSign = await unableToSignRows(tx, packageHash, opts.attesterCount);
      return { failures, exhausted: before?.exhausted === true || exhaustedNow, exhaustedNow, unableToSign };
    });
  }

  /** Counted failures of every attester for the package, by attester index. */
  async list(packageHash: string): Promise<RefineAttemptRecord[]> {
    const rows = await queryRows<RawRow>(this.ds, `SELECT ${COLUMNS} FROM refine_attempt WHERE package_hash = $1 ORDER BY attester_index`, [
      hashToBytes(packageHash, 'packageHash'),
    ]);
    return rows.map(toRecord);
  }

  /** Counted failures of one attester for the package, or null when none. */
  async get(packageHash: string, attesterIndex: number): Promise<RefineAttemptRecord | null> {
    const row = await queryOne<RawRow>(this.ds, `SELECT ${COLUMNS} FROM refine_attempt WHERE package_hash = $1 AND attester_index = $2`, [
      hashToBytes(packageHash, 'packageHash'),
      attesterIndex,
    ]);
    return row === null ? null : toRecord(row);
  }

  /** Attesters below `attesterCount` that gave up on the package and have not signed a report of it. */
  async unableToSign(packageHash: string, attesterCount: number): Promise<RefineAttemptRecord[]> {
    return unableToSignRows(this.ds, hashToBytes(packageHash, 'packageHash'), attesterCount);
  }
}

const COLUMNS = 'attester_index, failures, wall_clock_failures, last_kind, last_error, exhausted_at IS NOT NULL AS exhausted';

interface RawRow {
  attester_index: number;
  failures: number;
  wall_clock_failures: number;
  last_kind: RefineFailureKind;
  last_error: string | null;
  exhausted: boolean;
}

function toRecord(r: RawRow): RefineAttemptRecord {
  return {
    attesterIndex: r.attester_index,
    failures: r.failures,
    wallClockFailures: r.wall_clock_failures,
    lastKind: r.last_kind,
    lastError: r.last_error,
    exhausted: r.exhausted,
  };
}

async function unableToSignRows(runner: SqlTarget, packageHash: Buffer, attesterCount: number): Promise<RefineAttemptRecord[]> {
  const rows = await queryRows<RawRow>(
    runner,
    `SELECT ${COLUMNS} FROM refine_attempt r
     WHERE r.package_hash = $1 AND r.exhausted_at IS NOT NULL AND r.attester_index < $2
       AND NOT EXISTS (SELECT 1 FROM attestation a WHERE a.package_hash = $1 AND a.attester_index = r.attester_index)
     ORDER BY r.attester_index`,
    [packageHash, attesterCount],
  );
  return rows.map(toRecord);
}
