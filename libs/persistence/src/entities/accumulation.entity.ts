import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `accumulation`: the one-and-only application of a report to a service's state. */
@Entity({ name: 'accumulation' })
export class AccumulationEntity {
  /** Primary key with `serviceId`: a report applies at most once to each service it touches (DESIGN.md section 6). */
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  @Column({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  @PrimaryColumn({ type: 'integer', name: 'service_id' })
  serviceId!: number;

  /** Outcome reported by `accumulate` (for example `ok`, `panic`, `out_of_gas`). */
  @Column({ type: 'text' })
  status!: string;

  /** Gas (u64) as a decimal string. */
  @Column({ type: 'bigint', name: 'gas_used' })
  gasUsed!: string;

  @Column({ type: 'timestamptz', name: 'applied_at' })
  appliedAt!: Date;
}
