import { DomainError } from '@jam/domain';
import type { DataSource, EntityManager } from 'typeorm';
import type { AccumulationStatus } from '../entities/accumulation.entity';
import { hashToBytes, toBuffer } from '../bytes-hex';
import { bigintParam, queryOne, queryRows, type SqlTarget } from '../sql-runner';
import { loadStorageFootprint, loadStorageSnapshot } from './service-storage.repository';

/** One storage write produced by `accumulate`: `value: null` deletes the key. */
export interface StorageWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** What the `run` callback of {@link AccumulationRepository.applyOnce} returns. */
export interface AccumulateOutcome {
  /** Recorded in `accumulation.status`. */
  status: AccumulationStatus;
  /** gas, 0..2^63-1 (stored as a signed bigint; out of range rolls back with DomainError `invalid_request`) */
  gasUsed: bigint;
  /** Applied in order, in the same transaction as the accumulation row. */
  writes: StorageWrite[];
}

/** Size of a service's stored state: `bytes` = sum of key + value lengths (bytes), `items` = keys. */
export interface StorageFootprint {
  bytes: number;
  items: number;
}

/** What `run` of {@link AccumulationRepository.applyOnce} is given. */
export interface ServiceStorageState {
  /** Footprint of the stored state, summed in the database before anything is loaded. */
  footprint: StorageFootprint;
  /**
   * The stored state keyed by `0x` hex, or null when `footprint` exceeds the call's `loadLimit`
   * (then nothing was read out of the database).
   */
  storage: Map<string, Uint8Array> | null;
}

/** Result of {@link AccumulationRepository.recordSandboxFailure} (and `recordWallClockFailure`). */
export interface WallClockFailureResult {
  /** Failures of the call's kind counted for (report, service) after this call. */
  failures: number;
  /** True when (report, service) now has its accumulation row: nothing is left to retry. */
  final: boolean;
  /** True when this call recorded that row (`timed_out` or `sandbox_failed`). */
  applied: boolean;
  /** Status of the accumulation row when `final`. */
  status?: AccumulationStatus;
}

/** Result of {@link AccumulationRepository.recordSandboxFailure}. */
export type SandboxFailureResult = WallClockFailureResult;

/** Table `accumulation`: exactly-once, per-service-serial application of reports. */
export class AccumulationRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Applies one report to one service exactly once. The sandbox runs outside the service row lock
   * (issue 8: accumulate held the lock while the sandbox ran, 13.8 ms of lock wait per package):
   * 1. without a lock: reads `service.state_version` and whether an accumulation row for
   *    (`reportHash`, `serviceId`) exists (a report touching several services is applied once per
   *    service, GP 0.7.2 section 12); if it does, returns `{applied: false, status}` and calls nothing;
   * 2. sums the stored state's footprint; loads the state (keys `0x` hex) only when it is within
   *    `loadLimit` (else `storage: null`), and awaits `run(state)`, no transaction open;
   * 3. in ONE transaction: `SELECT ... FOR UPDATE` on the service row (one apply per service at a
   *    time; docs/architecture.md section 6), then the accumulation row again: present -> returns it
   *    (the outcome is dropped); `state_version` moved since step 1 (another report changed the
   *    storage: the outcome was computed on a stale state) -> nothing is written and it starts
   *    again at step 1 (compare-and-set); else writes the outcome's storage writes (last write per
   *    key wins, as applied in order; one DELETE and one upsert), inserts the accumulation row, commits.
   * After {@link OPTIMISTIC_ACCUMULATE_ATTEMPTS} such conflicts it runs once more with `run` inside
   * the locked transaction (as before issue 8), so a service under constant contention still makes progress.
   *
   * The state version counts the statements that changed the service's storage (triggers of
   * migration 1770400000000), so the check sees every writer. `run` may thus be called more than
   * once per apply (only the last call's outcome is applied); it must not use the database itself
   * (with pool size 1, as for the embedded server, the locked fallback would deadlock).
   * @param opts.loadLimit most bytes (keys + values) and keys this call reads out of the database
   * @throws DomainError `unknown_service` when the service does not exist; whatever `run`
   *   throws (nothing is written); database errors.
   */
  async applyOnce(opts: {
    reportHash: string;
    packageHash: string;
    serviceId: number;
    loadLimit: StorageFootprint;
    run: (state: ServiceStorageState) => Promise<AccumulateOutcome>;
  }): Promise<{ applied: boolean; status?: AccumulationStatus }> {
    const reportHash = hashToBytes(opts.reportHash, 'reportHash');
    const packageHash = hashToBytes(opts.packageHash, 'packageHash');
    const { serviceId } = opts;
    const runOn = async (target: SqlTarget, known?: StorageFootprint): Promise<AccumulateOutcome> => {
      const footprint = known ?? (await loadStorageFootprint(target, serviceId));
      const withinLimit = footprint.bytes <= opts.loadLimit.bytes && footprint.items <= opts.loadLimit.items;
      const storage = withinLimit ? await loadStorageSnapshot(target, serviceId) : null;
      return opts.run({ footprint, storage });
    };
    const commit = async (tx: EntityManager, outcome: AccumulateOutcome): Promise<{ applied: true; status: AccumulationStatus }> => {
      await applyStorageWrites(tx, serviceId, outcome.writes);
      await insertAccumulation(tx, reportHash, packageHash, serviceId, outcome.status, outcome.gasUsed);
      return { applied: true, status: outcome.status };
    };
    for (let attempt = 1; attempt <= OPTIMISTIC_ACCUMULATE_ATTEMPTS; attempt++) {
      const seen = await readServiceState(this.ds, reportHash, serviceId);
      if (seen.done) return { applied: false, status: seen.done.status };
      const outcome = await runOn(this.ds, seen.footprint);
      const result = await this.ds.transaction(async (tx) => {
        const locked = await lockServiceAndFindAccumulation(tx, reportHash, serviceId);
        if (locked.done) return { applied: false, status: locked.done.status };
        if (locked.version !== seen.version) return null;
        return commit(tx, outcome);
      });
      if (result !== null) return result;
    }
    // contended: run under the lock, so this apply cannot lose again
    return this.ds.transaction(async (tx) => {
      const locked = await lockServiceAndFindAccumulation(tx, reportHash, serviceId);
      if (locked.done) return { applied: false, status: locked.done.status };
      return commit(tx, await runOn(tx));
    });
  }

  /**
   * Counts one sandbox wall-clock kill of accumulating `reportHash` into `serviceId`, durably;
   * at `maxFailures` records the accumulation `timed_out`. Same as
   * {@link recordSandboxFailure} with `kind: 'wall_clock'`.
   */
  async recordWallClockFailure(opts: {
    reportHash: string;
    packageHash: string;
    serviceId: number;
    maxFailures: number;
    gasUsed: bigint;
  }): Promise<WallClockFailureResult> {
    return this.recordSandboxFailure({ ...opts, kind: 'wall_clock' });
  }

  /**
   * Counts one failure that is not a guest result while accumulating `reportHash` into
   * `serviceId`, durably: in its own transaction (the accumulation's transaction was rolled back),
   * under the same service row lock as {@link applyOnce}. Each kind has its own count
   * (`wall_clock_failures`, `executor_failures`, `blob_failures`). When the count of this call's
   * kind reaches `maxFailures`, records the accumulation itself in that transaction with no
   * writes, status `timed_out` (wall clock), `sandbox_failed` (executor crash or engine fault) or
   * `blob_unavailable` (the code could not be read) and `gasUsed`: the final result, recorded
   * exactly once like any other. If the accumulation row already exists (another delivery
   * finished it), counts nothing and returns it as final.
   * @param opts.kind `wall_clock`: killed by the wall clock; `executor`: the executor crashed, was
   *   killed or answered an error instead of an outcome; `blob`: the service's code could not be
   *   read from the blob store (missing, corrupted, store error), nothing ran
   * @param opts.maxFailures >= 1
   * @param opts.gasUsed gas charged if this call records the final row
   * @param opts.error message kept in `last_error` for operators (truncated to 1,000 characters)
   * @returns `failures`: the count of this kind after the call
   * @throws DomainError `unknown_service`; RangeError for maxFailures < 1; database errors.
   */
  async recordSandboxFailure(opts: {
    reportHash: string;
    packageHash: string;
    serviceId: number;
    kind: 'wall_clock' | 'executor' | 'blob';
    maxFailures: number;
    gasUsed: bigint;
    error?: string;
  }): Promise<SandboxFailureResult> {
    if (!Number.isInteger(opts.maxFailures) || opts.maxFailures < 1) throw new RangeError(`maxFailures must be an integer >= 1, got ${opts.maxFailures}`);
    const reportHash = hashToBytes(opts.reportHash, 'reportHash');
    const packageHash = hashToBytes(opts.packageHash, 'packageHash');
    // a fixed column per kind (never interpolated from input)
    const { column, finalStatus } = FAILURE_KINDS[opts.kind];
    const error = opts.error === undefined ? null : opts.error.slice(0, 1000);
    return this.ds.transaction(async (tx) => {
      const { done } = await lockServiceAndFindAccumulation(tx, reportHash, opts.serviceId);
      if (done) {
        const counted = await queryOne<{ n: number }>(tx, `SELECT ${column} AS n FROM accumulation_attempt WHERE report_hash = $1 AND service_id = $2`, [
          reportHash,
          opts.serviceId,
        ]);
        return { failures: counted?.n ?? 0, final: true, applied: false, status: done.status };
      }
      const row = await queryOne<{ n: number }>(
        tx,
        `INSERT INTO accumulation_attempt (report_hash, service_id, ${column}, last_error) VALUES ($1, $2, 1, $3)
         ON CONFLICT (report_hash, service_id) DO UPDATE SET ${column} = accumulation_attempt.${column} + 1, last_error = COALESCE(EXCLUDED.last_error, accumulation_attempt.last_error), last_failure_at = now()
         RETURNING ${column} AS n`,
        [reportHash, opts.serviceId, error],
      );
      const failures = row?.n ?? 0;
      if (failures < opts.maxFailures) return { failures, final: false, applied: false };
      await insertAccumulation(tx, reportHash, packageHash, opts.serviceId, finalStatus, opts.gasUsed);
      return { failures, final: true, applied: true, status: finalStatus };
    });
  }

  /** Executor crashes and engine faults counted for (report, service); 0 when none. */
  async executorFailures(reportHash: string, serviceId: number): Promise<number> {
    const row = await queryOne<{ n: number }>(this.ds, 'SELECT executor_failures AS n FROM accumulation_attempt WHERE report_hash = $1 AND service_id = $2', [
      hashToBytes(reportHash, 'reportHash'),
      serviceId,
    ]);
    return row?.n ?? 0;
  }

  /** Failures to read the service's code from the blob store counted for (report, service); 0 when none. */
  async blobFailures(reportHash: string, serviceId: number): Promise<number> {
    const row = await queryOne<{ n: number }>(this.ds, 'SELECT blob_failures AS n FROM accumulation_attempt WHERE report_hash = $1 AND service_id = $2', [
      hashToBytes(reportHash, 'reportHash'),
      serviceId,
    ]);
    return row?.n ?? 0;
  }

  /** Wall-clock kills counted for (report, service); 0 when none. */
  async wallClockFailures(reportHash: string, serviceId: number): Promise<number> {
    const row = await queryOne<{ n: number }>(this.ds, 'SELECT wall_clock_failures AS n FROM accumulation_attempt WHERE report_hash = $1 AND service_id = $2', [
      hashToBytes(reportHash, 'reportHash'),
      serviceId,
    ]);
    return row?.n ?? 0;
  }
}

/** Count column and final status of each kind of failure without a guest result (fixed names: never interpolated from input). */
const FAILURE_KINDS: Record<'wall_clock' | 'executor' | 'blob', { column: string; finalStatus: AccumulationStatus }> = {
  wall_clock: { column: 'wall_clock_failures', finalStatus: 'timed_out' },
  executor: { column: 'executor_failures', finalStatus: 'sandbox_failed' },
  blob: { column: 'blob_failures', finalStatus: 'blob_unavailable' },
};

/**
 * Compare-and-set attempts of {@link AccumulationRepository.applyOnce} (sandbox outside the lock)
 * before it runs the sandbox under the service row lock instead.
 */
export const OPTIMISTIC_ACCUMULATE_ATTEMPTS = 3;

/**
 * Locks the service row (one accumulation per service at a time) and returns its state version
 * and the accumulation row of (report, service) if there is one.
 * @throws DomainError `unknown_service`
 */
async function lockServiceAndFindAccumulation(
  tx: EntityManager,
  reportHash: Buffer,
  serviceId: number,
): Promise<{ version: string; done: { status: AccumulationStatus } | null }> {
  const service = await queryOne<{ version: string }>(tx, 'SELECT state_version::text AS version FROM service WHERE id = $1 FOR UPDATE', [serviceId]);
  if (!service) throw new DomainError('unknown_service', `service ${serviceId} does not exist`, { serviceId });
  // READ COMMITTED: this statement runs after the lock is granted, so it sees a row committed by the previous holder.
  // (Not a join in the locking statement: a re-checked locked row keeps the other tables' rows of the first read.)
  const done = await queryOne<{ status: AccumulationStatus }>(tx, 'SELECT status FROM accumulation WHERE report_hash = $1 AND service_id = $2', [
    reportHash,
    serviceId,
  ]);
  return { version: service.version, done };
}

/**
 * The service's state version, the accumulation row of (report, service) and the storage
 * footprint, in one statement without a lock (the version is read in the same snapshot as the
 * footprint). @throws DomainError `unknown_service`
 */
async function readServiceState(
  target: SqlTarget,
  reportHash: Buffer,
  serviceId: number,
): Promise<{ version: string; done: { status: AccumulationStatus } | null; footprint: StorageFootprint }> {
  const row = await queryOne<{ version: string; status: AccumulationStatus | null; bytes: string; items: string }>(
    target,
    `SELECT s.state_version::text AS version, (SELECT a.status FROM accumulation a WHERE a.report_hash = $1 AND a.service_id = s.id) AS status,
            f.bytes::text AS bytes, f.items::text AS items
       FROM service s,
            LATERAL (SELECT COALESCE(sum(octet_length(key) + octet_length(value)), 0) AS bytes, count(*) AS items
                       FROM service_storage WHERE service_id = s.id) f
      WHERE s.id = $2`,
    [reportHash, serviceId],
  );
  if (!row) throw new DomainError('unknown_service', `service ${serviceId} does not exist`, { serviceId });
  return {
    version: row.version,
    done: row.status === null ? null : { status: row.status },
    footprint: { bytes: Number(row.bytes), items: Number(row.items) },
  };
}

/**
 * Applies `writes` as if in order (the last write of a key wins; `value: null` deletes it), in at
 * most two statements: one DELETE of the deleted keys, one upsert of the others.
 */
async function applyStorageWrites(tx: EntityManager, serviceId: number, writes: readonly StorageWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const last = new Map<string, StorageWrite>();
  for (const w of writes) last.set(Buffer.from(w.key.buffer, w.key.byteOffset, w.key.length).toString('hex'), w);
  const deleted: Buffer[] = [];
  const keys: Buffer[] = [];
  const values: Buffer[] = [];
  for (const w of last.values()) {
    if (w.value === null) deleted.push(toBuffer(w.key));
    else {
      keys.push(toBuffer(w.key));
      values.push(toBuffer(w.value));
    }
  }
  if (deleted.length > 0) await queryRows(tx, 'DELETE FROM service_storage WHERE service_id = $1 AND key = ANY($2::bytea[]) RETURNING 1', [serviceId, deleted]);
  if (keys.length > 0) {
    await queryRows(
      tx,
      `INSERT INTO service_storage (service_id, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v)
       ON CONFLICT (service_id, key) DO UPDATE SET value = EXCLUDED.value RETURNING 1`,
      [serviceId, keys, values],
    );
  }
}

async function insertAccumulation(
  tx: EntityManager,
  reportHash: Buffer,
  packageHash: Buffer,
  serviceId: number,
  status: AccumulationStatus,
  gasUsed: bigint,
): Promise<void> {
  await queryOne(tx, 'INSERT INTO accumulation (report_hash, package_hash, service_id, status, gas_used) VALUES ($1, $2, $3, $4, $5)', [
    reportHash,
    packageHash,
    serviceId,
    status,
    bigintParam(gasUsed, 'gasUsed'),
  ]);
}
