import { DomainError, FINISHED_PACKAGE_STATUSES, PACKAGE_RETRY_TRANSITIONS, retryPhaseOf, type PackageFailureCode } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { bytesToHex, hashToBytes, toBuffer, toUint8Array } from '../bytes-hex';
import { WORK_PACKAGE_STATUSES, type WorkPackageEntity, type WorkPackageStatus } from '../entities/work-package.entity';
import { checkLimit, isForeignKeyViolation, queryOne, queryRows } from '../sql-runner';
import { extrinsicHashesOf } from '../package-preimage-refs';

/** A work package row without its encoding (lists and the reconciler do not need the bytes). */
export interface WorkPackageSummary {
  /** `0x` hex Blake2b-256 of the GP encoding. */
  hash: string;
  serviceIds: number[];
  submittedBy: string;
  /**
   * Fair-share priority every job of this package is queued with (1..2097151, lower first),
   * fixed at submission from the submitter's backlog (docs/fairness.md).
   */
  queuePriority: number;
  /**
   * Declared refine gas (gas): the sum of its items' `refine_gas_limit`. Picks the refine queue
   * of its jobs (express at most G_A; docs/fairness.md).
   */
  refineGas: bigint;
  status: WorkPackageStatus;
  /** `0x` hex, set once a report exists. */
  reportHash: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  accumulatedAt: Date | null;
  /** Retries the package has had (POST .../retry), 0 for a first run. */
  retries: number;
}

/** A work package row with its GP 0.7.2 binary encoding. */
export interface WorkPackageRecord extends WorkPackageSummary {
  encoded: Uint8Array;
}

/** Optional fields set together with a status transition; absent fields keep their value. */
export interface WorkPackageTransitionFields {
  /** `0x` hex report hash. */
  reportHash?: string;
  /** Why the package failed or is disputed (the lifecycle's typed codes). */
  errorCode?: PackageFailureCode;
  errorMessage?: string;
}

/**
 * Outcome of {@link WorkPackageRepository.retryFailed}: `retried` with the phase the package
 * restarts in and its row after the change, or why nothing changed.
 */
export type PackageRetryResult =
  | { outcome: 'retried'; phase: 'refine' | 'accumulate'; row: WorkPackageSummary }
  | { outcome: 'not_found' }
  | { outcome: 'not_failed'; status: WorkPackageStatus }
  | { outcome: 'not_retryable'; errorCode: string | null }
  | { outcome: 'limit_reached'; retries: number };

/** Statuses the accumulations of a failed package may have that wrote nothing and can run again. */
const RETRYABLE_ACCUMULATION_STATUSES = ['timed_out', 'sandbox_failed', 'blob_unavailable', 'storage_over_limit'];

/** Largest page {@link WorkPackageRepository.listByService} returns. */
export const WORK_PACKAGE_LIST_MAX_LIMIT = 1000;

const SUMMARY_COLUMNS = `hash, service_ids AS "serviceIds", submitted_by AS "submittedBy", queue_priority AS "queuePriority", refine_gas AS "refineGas", status,
  report_hash AS "reportHash", error_code AS "errorCode", error_message AS "errorMessage",
  created_at AS "createdAt", updated_at AS "updatedAt", accumulated_at AS "accumulatedAt", retries`;
const ALL_COLUMNS = `${SUMMARY_COLUMNS}, encoded`;
/** ALL_COLUMNS qualified by the alias `wp`, for joins. */
const ALL_COLUMNS_OF_WP = ALL_COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1wp.$2');
/** created_at as exact UTC text (microseconds), because a JS Date would drop the microseconds the keyset compares. */
const CURSOR_TIME = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

const FINISHED_SQL = FINISHED_PACKAGE_STATUSES.map((s) => `'${s}'`).join(', ');

type SummaryRow = Omit<WorkPackageEntity, 'encoded'>;

function toSummary(row: SummaryRow): WorkPackageSummary {
  return {
    hash: bytesToHex(row.hash),
    serviceIds: row.serviceIds,
    submittedBy: row.submittedBy,
    queuePriority: row.queuePriority,
    refineGas: BigInt(row.refineGas),
    status: row.status,
    reportHash: row.reportHash && bytesToHex(row.reportHash),
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    accumulatedAt: row.accumulatedAt,
    retries: row.retries,
  };
}

function toRecord(row: WorkPackageEntity): WorkPackageRecord {
  return { ...toSummary(row), encoded: toUint8Array(row.encoded) };
}

function checkStatuses(statuses: readonly string[]): void {
  for (const s of statuses) {
    if (!(WORK_PACKAGE_STATUSES as readonly string[]).includes(s)) {
      throw new DomainError('invalid_request', `unknown work package status ${JSON.stringify(s)}`, { status: s });
    }
  }
}

/** Cursor wire form: base64url of `<UTC time with microseconds>|<0x hash>`. Opaque to clients. */
function encodeCursor(time: string, hash: Buffer): string {
  return Buffer.from(`${time}|${bytesToHex(hash)}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { time: string; hash: Buffer } {
  const [time, hash, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !time || !hash || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/.test(time) || !/^0x[0-9a-f]{64}$/.test(hash)) {
    throw new DomainError('invalid_request', 'malformed cursor');
  }
  // The pattern admits impossible times (month 99, Feb 30, year 0) that PostgreSQL refuses: a round trip through Date catches them.
  const asDate = new Date(`${time.slice(0, 23)}Z`);
  if (Number.isNaN(asDate.getTime()) || asDate.toISOString().slice(0, 23) !== time.slice(0, 23) || time.startsWith('0000')) {
    throw new DomainError('invalid_request', 'malformed cursor');
  }
  return { time, hash: hashToBytes(hash) };
}

/**
 * Table `work_package`: the truth about every submitted package. All status changes are
 * compare-and-set ({@link transition}), so a redelivered job cannot move a package backwards.
 */
export class WorkPackageRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Records a package in status `pending` unless its hash is already recorded (resubmitting the
   * same package is idempotent, docs/architecture.md section 5).
   * @param input.encoded GP 0.7.2 binary encoding of the package
   * @param input.serviceIds the u32 service ids of its work items
   * @param input.queuePriority fair-share priority of its jobs, 1..2097151 (default 1; see
   *   `packageQueuePriority` in @jam/queue-contracts); an existing row keeps its own
   * @param input.refineGas declared refine gas, the sum of its items' limits (gas, default 0)
   * Records the package's extrinsic preimage references (`work_package_preimage`) with it.
   * @returns `created` and the row as stored (the existing row when `created` is false).
   * @throws DomainError `invalid_hex`; DomainError `unknown_preimage` when an extrinsic preimage
   *   is not recorded (deleted by the GC after the caller checked it).
   */
  async insertIfAbsent(input: {
    hash: string;
    encoded: Uint8Array;
    serviceIds: number[];
    submittedBy: string;
    queuePriority?: number;
    refineGas?: bigint;
  }): Promise<{ created: boolean; row: WorkPackageRecord }> {
    const hash = hashToBytes(input.hash);
    const refs = extrinsicHashesOf(input.encoded);
    let inserted: WorkPackageEntity | null;
    try {
      // One statement (atomic, no BEGIN/COMMIT round trips: issue 8): the package row and its
      // extrinsic references (which keep those preimages from the GC) appear together, the
      // references only when the row is new. The FK on work_package_preimage locks each preimage
      // row FOR KEY SHARE, so a GC deleting one concurrently either waits for this commit (and
      // then sees the reference) or has committed and this insert fails.
      inserted = await queryOne<WorkPackageEntity>(
        this.ds,
        `WITH ins AS (
           INSERT INTO work_package (hash, encoded, service_ids, submitted_by, queue_priority, refine_gas) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (hash) DO NOTHING RETURNING ${ALL_COLUMNS}
         ), refs AS (
           INSERT INTO work_package_preimage (package_hash, preimage_hash) SELECT ins.hash, r FROM ins, unnest($7::bytea[]) AS r
         )
         SELECT * FROM ins`,
        [hash, toBuffer(input.encoded), input.serviceIds, input.submittedBy, input.queuePriority ?? 1, (input.refineGas ?? 0n).toString(), refs],
      );
    } catch (err) {
      if (isForeignKeyViolation(err))
        throw new DomainError('unknown_preimage', `work package ${input.hash} references an extrinsic preimage that is not stored`, { hash: input.hash });
      throw err;
    }
    if (inserted) return { created: true, row: toRecord(inserted) };
    const existing = await this.get(input.hash);
    if (!existing) throw new Error(`work package ${input.hash} conflicted on insert but is not readable`);
    return { created: false, row: existing };
  }

  /** @returns the package with its encoding, or null. @throws DomainError `invalid_hex`. */
  async get(hash: string): Promise<WorkPackageRecord | null> {
    const row = await queryOne<WorkPackageEntity>(this.ds, `SELECT ${ALL_COLUMNS} FROM work_package WHERE hash = $1`, [hashToBytes(hash)]);
    return row && toRecord(row);
  }

  /**
   * The package with its encoding and, in the same statement, the `refine_attempt` count of one
   * attester and the code hash of each service the package names (the refine processor read all
   * three for every job, issue 8).
   * @returns null when the package is missing; `attempt` null when this attester has no failure
   *   counted; `serviceCodeHashes` maps each id of `row.serviceIds` that is a registered service to
   *   its code hash (`0x` hex), read in the same snapshot as the package
   * @throws DomainError `invalid_hex`.
   */
  async getForAttester(
    hash: string,
    attesterIndex: number,
  ): Promise<{ row: WorkPackageRecord; attempt: { failures: number; exhausted: boolean } | null; serviceCodeHashes: ReadonlyMap<number, string> } | null> {
    const row = await queryOne<
      WorkPackageEntity & { attemptFailures: number | null; attemptExhausted: boolean | null; serviceCodeHashes: Record<string, string> | null }
    >(
      this.ds,
      `SELECT ${ALL_COLUMNS_OF_WP}, ra.failures AS "attemptFailures", ra.exhausted_at IS NOT NULL AS "attemptExhausted",
              (SELECT json_object_agg(s.id, '0x' || encode(s.code_hash, 'hex')) FROM service s WHERE s.id = ANY(wp.service_ids)) AS "serviceCodeHashes"
         FROM work_package wp LEFT JOIN refine_attempt ra ON ra.package_hash = wp.hash AND ra.attester_index = $2
        WHERE wp.hash = $1`,
      [hashToBytes(hash), attesterIndex],
    );
    if (!row) return null;
    const attempt = row.attemptFailures === null ? null : { failures: row.attemptFailures, exhausted: row.attemptExhausted === true };
    const serviceCodeHashes = new Map(Object.entries(row.serviceCodeHashes ?? {}).map(([id, codeHash]) => [Number(id), codeHash]));
    return { row: toRecord(row), attempt, serviceCodeHashes };
  }

  /**
   * Compare-and-set: moves the package to `to` only if its status is one of `from`, in one
   * `UPDATE ... WHERE status = ANY(from)`. Sets `updated_at`, and `accumulated_at` when `to`
   * is `accumulated`; given `fields` overwrite, absent ones are kept.
   * @returns true if this call made the change; false if the package is missing or in another
   *   status (a concurrent or earlier handler won).
   * @throws DomainError `invalid_request` for an unknown status, `invalid_hex`.
   */
  async transition(hash: string, from: readonly WorkPackageStatus[], to: WorkPackageStatus, fields: WorkPackageTransitionFields = {}): Promise<boolean> {
    checkStatuses([...from, to]);
    const row = await queryOne(
      this.ds,
      `UPDATE work_package SET
         status = $3,
         updated_at = now(),
         report_hash = COALESCE($4, report_hash),
         error_code = COALESCE($5, error_code),
         error_message = COALESCE($6, error_message),
         accumulated_at = CASE WHEN $3 = 'accumulated' THEN now() ELSE accumulated_at END
       WHERE hash = $1 AND status = ANY($2::text[])
       RETURNING 1 AS ok`,
      [
        hashToBytes(hash),
        from,
        to,
        fields.reportHash === undefined ? null : hashToBytes(fields.reportHash, 'reportHash'),
        fields.errorCode ?? null,
        fields.errorMessage ?? null,
      ],
    );
    return row !== null;
  }

  /**
   * {@link transition} that also returns the row, in ONE statement: the row after the change when
   * this call made it, else the row as it is (another status: a concurrent or earlier handler won).
   * Saves the read a handler made after a transition to see where the package stands.
   * @returns `moved` as {@link transition} returns it; `row` null when the package is missing
   * @throws DomainError `invalid_request` for an unknown status, `invalid_hex`.
   */
  async transitionAndRead(
    hash: string,
    from: readonly WorkPackageStatus[],
    to: WorkPackageStatus,
    fields: WorkPackageTransitionFields = {},
  ): Promise<{ moved: boolean; row: WorkPackageSummary | null }> {
    checkStatuses([...from, to]);
    // The outer SELECT sees the snapshot before the UPDATE: it gives the unchanged row when the UPDATE matched nothing.
    const row = await queryOne<SummaryRow & { moved: boolean }>(
      this.ds,
      `WITH moved AS (
         UPDATE work_package SET
           status = $3,
           updated_at = now(),
           report_hash = COALESCE($4, report_hash),
           error_code = COALESCE($5, error_code),
           error_message = COALESCE($6, error_message),
           accumulated_at = CASE WHEN $3 = 'accumulated' THEN now() ELSE accumulated_at END
         WHERE hash = $1 AND status = ANY($2::text[])
         RETURNING ${SUMMARY_COLUMNS})
       SELECT *, true AS moved FROM moved
       UNION ALL
       SELECT ${SUMMARY_COLUMNS}, false AS moved FROM work_package WHERE hash = $1 AND NOT EXISTS (SELECT 1 FROM moved)`,
      [
        hashToBytes(hash),
        from,
        to,
        fields.reportHash === undefined ? null : hashToBytes(fields.reportHash, 'reportHash'),
        fields.errorCode ?? null,
        fields.errorMessage ?? null,
      ],
    );
    return { moved: row?.moved === true, row: row && toSummary(row) };
  }

  /**
   * Puts a failed package back into the pipeline, in one transaction under the package row lock
   * (`SELECT ... FOR UPDATE`), when its failure is retryable (`RETRYABLE_FAILURE_CODES` of @jam/domain)
   * and it has had fewer than `maxRetries` retries:
   * - refine failures: deletes its `refine_attempt` rows (so no attester has given up any more)
   *   and moves it to `pending`; attestations already recorded stay (refine is deterministic, the
   *   same report hash is signed again);
   * - accumulate failures: deletes its report's accumulations that ended `timed_out`,
   *   `sandbox_failed` or `storage_over_limit` (recorded without writes) and the report's
   *   `accumulation_attempt` counts, and moves it to `attested`. Accumulations that applied (ok,
   *   panic, out_of_gas) stay, so the accumulate job skips their services: exactly once holds.
   * Clears the error, increments `retries`, sets `updated_at`. The caller enqueues the jobs after
   * the commit (the reconciler re-enqueues them if that fails).
   * @param maxRetries max_package_retries (>= 0)
   * @throws DomainError `invalid_hex`; RangeError for a bad maxRetries; database errors
   */
  async retryFailed(hash: string, maxRetries: number): Promise<PackageRetryResult> {
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new RangeError(`maxRetries must be an integer >= 0, got ${maxRetries}`);
    const key = hashToBytes(hash);
    return this.ds.transaction(async (tx) => {
      const row = await queryOne<SummaryRow>(tx, `SELECT ${SUMMARY_COLUMNS} FROM work_package WHERE hash = $1 FOR UPDATE`, [key]);
      if (!row) return { outcome: 'not_found' };
      if (row.status !== 'failed') return { outcome: 'not_failed', status: row.status };
      const phase = retryPhaseOf(row.errorCode);
      if (phase === undefined || (phase === 'accumulate' && row.reportHash === null)) return { outcome: 'not_retryable', errorCode: row.errorCode };
      if (row.retries >= maxRetries) return { outcome: 'limit_reached', retries: row.retries };
      if (phase === 'refine') {
        await queryRows(tx, 'DELETE FROM refine_attempt WHERE package_hash = $1 RETURNING 1', [key]);
      } else {
        await queryRows(tx, 'DELETE FROM accumulation WHERE report_hash = $1 AND status = ANY($2::text[]) RETURNING 1', [
          row.reportHash,
          RETRYABLE_ACCUMULATION_STATUSES,
        ]);
        await queryRows(tx, 'DELETE FROM accumulation_attempt WHERE report_hash = $1 RETURNING 1', [row.reportHash]);
      }
      const updated = await queryOne<SummaryRow>(
        tx,
        `UPDATE work_package SET status = $2, error_code = NULL, error_message = NULL, retries = retries + 1, updated_at = now()
         WHERE hash = $1 RETURNING ${SUMMARY_COLUMNS}`,
        [key, PACKAGE_RETRY_TRANSITIONS[phase].to],
      );
      if (!updated) throw new Error(`work package ${hash} vanished under its row lock`);
      return { outcome: 'retried', phase, row: toSummary(updated) };
    });
  }

  /**
   * Keyset page of the packages that include `serviceId`, newest first, ordered by
   * (created_at, hash) descending. Pass `nextCursor` back as `cursor` for the next page; it is
   * null on the last page. Rows inserted while paging appear at the front, so later pages never
   * skip or repeat a row.
   * @param opts.limit 1..WORK_PACKAGE_LIST_MAX_LIMIT
   * @throws DomainError `invalid_request` for a malformed cursor or unknown status; RangeError for a bad limit.
   */
  async listByService(
    serviceId: number,
    opts: { status?: WorkPackageStatus; cursor?: string; limit: number },
  ): Promise<{ items: WorkPackageSummary[]; nextCursor: string | null }> {
    checkLimit(opts.limit, WORK_PACKAGE_LIST_MAX_LIMIT);
    if (opts.status !== undefined) checkStatuses([opts.status]);
    const after = opts.cursor === undefined ? null : decodeCursor(opts.cursor);
    const rows = await queryRows<SummaryRow & { cursorTime: string }>(
      this.ds,
      `SELECT ${SUMMARY_COLUMNS}, ${CURSOR_TIME} AS "cursorTime" FROM work_package
       WHERE service_ids @> ARRAY[$1::integer]
         AND ($2::text IS NULL OR status = $2)
         AND ($3::timestamp IS NULL OR (created_at, hash) < ($3::timestamp AT TIME ZONE 'UTC', $4::bytea))
       ORDER BY created_at DESC, hash DESC
       LIMIT $5`,
      [serviceId, opts.status ?? null, after?.time ?? null, after?.hash ?? null, opts.limit + 1],
    );
    const page = rows.slice(0, opts.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > opts.limit && last ? encodeCursor(last.cursorTime, last.hash) : null;
    return { items: page.map(toSummary), nextCursor };
  }

  /**
   * Keyset page of all packages in one status, newest first (same ordering and cursor as
   * {@link listByService}); the admin API lists disputed packages with it.
   * @param opts.limit 1..WORK_PACKAGE_LIST_MAX_LIMIT
   * @throws DomainError `invalid_request` for a malformed cursor or unknown status; RangeError for a bad limit.
   */
  async listByStatus(status: WorkPackageStatus, opts: { cursor?: string; limit: number }): Promise<{ items: WorkPackageSummary[]; nextCursor: string | null }> {
    checkLimit(opts.limit, WORK_PACKAGE_LIST_MAX_LIMIT);
    checkStatuses([status]);
    const after = opts.cursor === undefined ? null : decodeCursor(opts.cursor);
    const rows = await queryRows<SummaryRow & { cursorTime: string }>(
      this.ds,
      `SELECT ${SUMMARY_COLUMNS}, ${CURSOR_TIME} AS "cursorTime" FROM work_package
       WHERE status = $1
         AND ($2::timestamp IS NULL OR (created_at, hash) < ($2::timestamp AT TIME ZONE 'UTC', $3::bytea))
       ORDER BY created_at DESC, hash DESC
       LIMIT $4`,
      [status, after?.time ?? null, after?.hash ?? null, opts.limit + 1],
    );
    const page = rows.slice(0, opts.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > opts.limit && last ? encodeCursor(last.cursorTime, last.hash) : null;
    return { items: page.map(toSummary), nextCursor };
  }

  /**
   * Packages in one of `statuses` not updated for at least `olderThanMs` milliseconds, oldest
   * first: the reconciler re-enqueues their next job (docs/architecture.md section 6).
   * @throws DomainError `invalid_request` for an unknown status; RangeError for a bad limit.
   */
  async findStale(statuses: WorkPackageStatus[], olderThanMs: number, limit: number): Promise<WorkPackageSummary[]> {
    checkStatuses(statuses);
    checkLimit(limit, WORK_PACKAGE_LIST_MAX_LIMIT);
    const rows = await queryRows<SummaryRow>(
      this.ds,
      `SELECT ${SUMMARY_COLUMNS} FROM work_package
       WHERE status = ANY($1::text[]) AND updated_at <= now() - $2 * interval '1 millisecond'
       ORDER BY updated_at LIMIT $3`,
      [statuses, olderThanMs, limit],
    );
    return rows.map(toSummary);
  }

  /** Number of packages per status, every status present (0 when none), for metrics. */
  async countByStatus(): Promise<Record<WorkPackageStatus, number>> {
    const rows = await queryRows<{ status: WorkPackageStatus; n: string }>(this.ds, 'SELECT status, count(*) AS n FROM work_package GROUP BY status');
    const counts = Object.fromEntries(WORK_PACKAGE_STATUSES.map((s) => [s, 0])) as Record<WorkPackageStatus, number>;
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }

  /**
   * Backlog of one submitter: its packages still in flight (not accumulated, failed or disputed)
   * and the sum of their declared refine gas (gas), for the quota and the fair-share priority
   * (docs/fairness.md). Sums the submitter's (at most 16) `principal_in_flight` counter shards,
   * which the trigger `work_package_in_flight_count` keeps exact in every writer's transaction
   * (migrations/1769000000000-in-flight-counters.ts): O(1) in the backlog.
   */
  async inFlightBySubmitter(submittedBy: string): Promise<{ packages: number; refineGas: bigint }> {
    const row = await queryOne<{ n: string; gas: string }>(
      this.ds,
      `SELECT COALESCE(sum(packages), 0)::text AS n, COALESCE(sum(refine_gas), 0)::text AS gas FROM principal_in_flight WHERE principal = $1`,
      [submittedBy],
    );
    return { packages: Number(row?.n ?? 0), refineGas: BigInt(row?.gas ?? '0') };
  }

  /**
   * What a submission decides on, in one statement (the gateway read it in three, issue 8): the
   * status of the package if it is stored already, the submitter's `max_pending_packages` override
   * (`principal_quota`; null = the global setting) and its backlog as {@link inFlightBySubmitter}
   * sums it (packages, refine gas in gas units).
   * @throws DomainError `invalid_hex`.
   */
  async submissionState(
    hash: string,
    submittedBy: string,
  ): Promise<{ existingStatus: WorkPackageStatus | null; maxPendingPackages: number | null; backlog: { packages: number; refineGas: bigint } }> {
    const row = await queryOne<{ status: WorkPackageStatus | null; maxPending: number | null; n: string; gas: string }>(
      this.ds,
      `SELECT (SELECT status FROM work_package WHERE hash = $1) AS status,
              (SELECT max_pending_packages FROM principal_quota WHERE principal = $2) AS "maxPending",
              COALESCE(sum(packages), 0)::text AS n, COALESCE(sum(refine_gas), 0)::text AS gas
         FROM principal_in_flight WHERE principal = $2`,
      [hashToBytes(hash), submittedBy],
    );
    return {
      existingStatus: row?.status ?? null,
      maxPendingPackages: row?.maxPending ?? null,
      backlog: { packages: Number(row?.n ?? 0), refineGas: BigInt(row?.gas ?? '0') },
    };
  }

  /** Packages of one submitter still in flight (not accumulated, failed or disputed), for quotas: O(1), see {@link inFlightBySubmitter}. */
  async countPendingBySubmitter(submittedBy: string): Promise<number> {
    return (await this.inFlightBySubmitter(submittedBy)).packages;
  }

  /**
   * Retention (threat model "Storage Bloat"): deletes up to `limit` finished packages
   * (`accumulated`, `failed`) whose last status change is at least `olderThanMs` ago, with their
   * dependants, in one short transaction, children first (FKs): accumulation rows of their
   * reports, attestations, reports, then the packages (their `work_package_preimage` references
   * cascade, releasing the preimages to the GC). Service storage is state, not history: kept.
   * `disputed` packages are never deleted here; they wait for an admin's resolution.
   * Rows are taken `FOR UPDATE SKIP LOCKED`, so a concurrent run or a handler touching a package
   * is skipped, never waited on; call again until it returns fewer than `limit` packages.
   * @param olderThanMs ms since `updated_at` (the finishing transition)
   * @throws RangeError for a limit outside 1..WORK_PACKAGE_LIST_MAX_LIMIT.
   */
  async deleteFinishedOlderThan(
    olderThanMs: number,
    limit: number,
  ): Promise<{ packages: number; reports: number; attestations: number; accumulations: number }> {
    checkLimit(limit, WORK_PACKAGE_LIST_MAX_LIMIT);
    return this.ds.transaction(async (tx) => {
      const victims = await queryRows<{ hash: Buffer }>(
        tx,
        `SELECT hash FROM work_package
         WHERE status IN (${FINISHED_SQL}) AND updated_at <= now() - $1 * interval '1 millisecond'
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [olderThanMs, limit],
      );
      if (victims.length === 0) return { packages: 0, reports: 0, attestations: 0, accumulations: 0 };
      const hashes = victims.map((v) => v.hash);
      const reports = `SELECT report_hash FROM work_report WHERE package_hash = ANY($1::bytea[])`;
      const accumulations = await queryRows(tx, `DELETE FROM accumulation WHERE report_hash IN (${reports}) RETURNING 1`, [hashes]);
      const attestations = await queryRows(tx, `DELETE FROM attestation WHERE report_hash IN (${reports}) OR package_hash = ANY($1::bytea[]) RETURNING 1`, [
        hashes,
      ]);
      const deletedReports = await queryRows(tx, 'DELETE FROM work_report WHERE package_hash = ANY($1::bytea[]) RETURNING 1', [hashes]);
      const packages = await queryRows(tx, 'DELETE FROM work_package WHERE hash = ANY($1::bytea[]) RETURNING 1', [hashes]);
      return { packages: packages.length, reports: deletedReports.length, attestations: attestations.length, accumulations: accumulations.length };
    });
  }
}
