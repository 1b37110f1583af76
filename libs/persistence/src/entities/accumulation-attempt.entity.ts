import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `accumulation_attempt`: how often accumulating one report into one service was killed by
 * the sandbox wall clock. Written in its own transaction, so it outlives the rolled-back attempts.
 */
@Entity({ name: 'accumulation_attempt' })
export class AccumulationAttemptEntity {
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  @PrimaryColumn({ type: 'integer', name: 'service_id' })
  serviceId!: number;

  @Column({ type: 'integer', name: 'wall_clock_failures' })
  wallClockFailures!: number;

  @Column({ type: 'timestamptz', name: 'last_failure_at' })
  lastFailureAt!: Date;
}
