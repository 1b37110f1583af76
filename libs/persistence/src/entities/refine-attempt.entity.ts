import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `refine_attempt`: sandbox failures that are not guest results (executor crash or engine
 * fault, wall-clock kill) while one attester refined one package. Written in its own transaction;
 * `exhaustedAt` is set when the attester gives up on the package (max_sandbox_failures).
 */
@Entity({ name: 'refine_attempt' })
export class RefineAttemptEntity {
  @PrimaryColumn({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  @PrimaryColumn({ type: 'integer', name: 'attester_index' })
  attesterIndex!: number;

  /** All counted failures (executor and wall clock). */
  @Column({ type: 'integer' })
  failures!: number;

  /** Of `failures`, the wall-clock kills. */
  @Column({ type: 'integer', name: 'wall_clock_failures' })
  wallClockFailures!: number;

  /** `wall_clock`, `executor` or `blob` (migration 1767000000000). */
  @Column({ type: 'text', name: 'last_kind' })
  lastKind!: string;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', name: 'last_failure_at' })
  lastFailureAt!: Date;

  @Column({ type: 'timestamptz', name: 'exhausted_at', nullable: true })
  exhaustedAt!: Date | null;
}
