import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `accumulation_attempt`: how often accumulating one report into one service was killed by
 * the sandbox wall clock, how often its executor crashed or reported an engine fault, and how often
 * its code could not be read from the blob store. Written
 * in its own transaction, so it outlives the rolled-back attempts.
 */
@Entity({ name: 'accumulation_attempt' })
export class AccumulationAttemptEntity {
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  @PrimaryColumn({ type: 'integer', name: 'service_id' })
  serviceId!: number;

  @Column({ type: 'integer', name: 'wall_clock_failures' })
  wallClockFailures!: number;

  /** Executor crashes and engine faults (migration 1765000000000). */
  @Column({ type: 'integer', name: 'executor_failures' })
  executorFailures!: number;

  /** Failures to read the service's code from the blob store (migration 1767000000000). */
  @Column({ type: 'integer', name: 'blob_failures' })
  blobFailures!: number;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', name: 'last_failure_at' })
  lastFailureAt!: Date;
}
