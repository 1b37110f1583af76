import { DomainError } from '@jam/domain';
import type { DataSource } from 'typeorm';
import { hashToBytes, toBuffer } from '../bytes-hex';
import { bigintParam, queryOne } from '../sql-runner';
import { loadStorageSnapshot } from './service-storage.repository';

/** One storage write produced by `accumulate`: `value: null` deletes the key. */
export interface StorageWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** What the `run` callback of {@link AccumulationRepository.applyOnce} returns. */
export interface AccumulateOutcome {
  /** Outcome recorded in `accumulation.status` (for example `ok`, `panic`, `out_of_gas`). */
  status: string;
  /** gas, 0..2^63-1 (stored as a signed bigint; out of range rolls back with DomainError `invalid_request`) */
  gasUsed: bigint;
  /** Applied in order, in the same transaction as the accumulation row. */
  writes: StorageWrite[];
}

/** Table `accumulation`: exactly-once, per-service-serial application of reports. */
export class AccumulationRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Applies one report to one service exactly once, in ONE transaction:
   * 1. `SELECT ... FOR UPDATE` on the service row, so a service applies one report at a time
   *    (concurrent calls for the same service wait here; DESIGN.md section 6);
   * 2. if an accumulation row for (`reportHash`, `serviceId`) exists (a report touching several
   *    services is applied once per service, GP 0.7.2 section 12), returns `{applied: false, status}` with
   *    the recorded status and calls nothing;
   * 3. loads the service's storage snapshot (keys `0x` hex) and awaits `run(snapshot)`;
   * 4. upserts / deletes the returned writes, inserts the accumulation row, commits.
   *
   * `run` must not use the database itself: it would need a second connection while this
   * one is held (a deadlock with pool size 1, as for the embedded server).
   * @throws DomainError `unknown_service` when the service does not exist; whatever `run`
   *   throws (the transaction is rolled back, nothing is written); database errors.
   */
  async applyOnce(opts: {
    reportHash: string;
    packageHash: string;
    serviceId: number;
    run: (storage: Map<string, Uint8Array>) => Promise<AccumulateOutcome>;
  }): Promise<{ applied: boolean; status?: string }> {
    const reportHash = hashToBytes(opts.reportHash, 'reportHash');
    const packageHash = hashToBytes(opts.packageHash, 'packageHash');
    return this.ds.transaction(async (tx) => {
      const service = await queryOne(tx, 'SELECT id FROM service WHERE id = $1 FOR UPDATE', [opts.serviceId]);
      if (!service) throw new DomainError('unknown_service', `service ${opts.serviceId} does not exist`, { serviceId: opts.serviceId });
      // READ COMMITTED: this statement runs after the lock is granted, so it sees a row committed by the previous holder.
      const done = await queryOne<{ status: string }>(tx, 'SELECT status FROM accumulation WHERE report_hash = $1 AND service_id = $2', [reportHash, opts.serviceId]);
      if (done) return { applied: false, status: done.status };

      const outcome = await opts.run(await loadStorageSnapshot(tx, opts.serviceId));
      for (const w of outcome.writes) {
        if (w.value === null) {
          await queryOne(tx, 'DELETE FROM service_storage WHERE service_id = $1 AND key = $2', [opts.serviceId, toBuffer(w.key)]);
        } else {
          await queryOne(
            tx,
            `INSERT INTO service_storage (service_id, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (service_id, key) DO UPDATE SET value = EXCLUDED.value`,
            [opts.serviceId, toBuffer(w.key), toBuffer(w.value)],
          );
        }
      }
      await queryOne(
        tx,
        'INSERT INTO accumulation (report_hash, package_hash, service_id, status, gas_used) VALUES ($1, $2, $3, $4, $5)',
        [reportHash, packageHash, opts.serviceId, outcome.status, bigintParam(outcome.gasUsed, 'gasUsed')],
      );
      return { applied: true, status: outcome.status };
    });
  }
}
