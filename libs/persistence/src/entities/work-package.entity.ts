import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IN_FLIGHT_PACKAGE_STATUSES, PACKAGE_STATUSES, type PackageStatus } from '@jam/domain';

/**
 * Pipeline status of a work package: the lifecycle of `@jam/domain` (package-lifecycle.ts).
 * WARNING: stored in `work_package.status` (CHECK constraint) and shown to clients; adding one
 * needs a migration.
 */
export const WORK_PACKAGE_STATUSES = PACKAGE_STATUSES;
export type WorkPackageStatus = PackageStatus;

/** Statuses that still count against a submitter's in-flight quota. */
export const IN_FLIGHT_WORK_PACKAGE_STATUSES: readonly WorkPackageStatus[] = IN_FLIGHT_PACKAGE_STATUSES;

/** Row of `work_package`: the truth about one submitted package (the queue is only a trigger). */
@Entity({ name: 'work_package' })
@Index('work_package_status_updated_at_idx', ['status', 'updatedAt'])
export class WorkPackageEntity {
  /** Blake2b-256 of the GP encoding, 32 bytes. */
  @PrimaryColumn({ type: 'bytea' })
  hash!: Buffer;

  /** The package in GP 0.7.2 binary encoding. */
  @Column({ type: 'bytea' })
  encoded!: Buffer;

  @Column({ type: 'integer', array: true, name: 'service_ids' })
  serviceIds!: number[];

  @Column({ type: 'text', name: 'submitted_by' })
  submittedBy!: string;

  /** Fair-share queue priority of every job of this package, 1..2097151, lower first (docs/fairness.md). */
  @Column({ type: 'integer', name: 'queue_priority' })
  queuePriority!: number;

  /** Declared refine gas of the package (sum of its items' refine gas limits, gas); the fair-share backlog sums it. */
  @Column({ type: 'bigint', name: 'refine_gas' })
  refineGas!: string;

  @Column({ type: 'text' })
  status!: WorkPackageStatus;

  @Column({ type: 'bytea', name: 'report_hash', nullable: true })
  reportHash!: Buffer | null;

  @Column({ type: 'text', name: 'error_code', nullable: true })
  errorCode!: string | null;

  @Column({ type: 'text', name: 'error_message', nullable: true })
  errorMessage!: string | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', name: 'accumulated_at', nullable: true })
  accumulatedAt!: Date | null;

  /** Retries the package has had (migration 1766500000000; bounded by max_package_retries). */
  @Column({ type: 'integer' })
  retries!: number;
}
