import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What `accumulation.status` records. The guest's outcome: `ok`, `out_of_gas`, `panic`. Or a host
 * verdict that ends the accumulation without running it to the end and without writes:
 * `timed_out` (killed by the sandbox wall clock max_accumulate_timeouts times) and
 * `storage_over_limit` (the service's stored state is larger than an executor can be given),
 * `sandbox_failed` (its executor crashed or reported an engine fault max_sandbox_failures times),
 * `blob_unavailable` (the service's code could not be read from the blob store
 * max_sandbox_failures times: missing, corrupted or a store error; the code never ran).
 * The column is unconstrained text (no CHECK), so a new value needs no migration.
 */
export const ACCUMULATION_STATUSES = ['ok', 'out_of_gas', 'panic', 'timed_out', 'storage_over_limit', 'sandbox_failed', 'blob_unavailable'] as const;
export type AccumulationStatus = (typeof ACCUMULATION_STATUSES)[number];

/** Row of `accumulation`: the one-and-only application of a report to a service's state. */
@Entity({ name: 'accumulation' })
export class AccumulationEntity {
  /** Primary key with `serviceId`: a report applies at most once to each service it touches (docs/architecture.md section 6). */
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  @Column({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  @PrimaryColumn({ type: 'integer', name: 'service_id' })
  serviceId!: number;

  /** One of ACCUMULATION_STATUSES. */
  @Column({ type: 'text' })
  status!: AccumulationStatus;

  /** Gas (u64) as a decimal string. */
  @Column({ type: 'bigint', name: 'gas_used' })
  gasUsed!: string;

  @Column({ type: 'timestamptz', name: 'applied_at' })
  appliedAt!: Date;
}
