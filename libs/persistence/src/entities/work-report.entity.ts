import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What one work item's refine logged and where it trapped (migration 1768500000000): kept beside
 * the report, never part of its encoding or hash (docs/service-abi.md, "Guest logs and trap detail").
 */
export interface GuestLogEntry {
  item_index: number;
  service_id: number;
  /** The `log` lines as the engine captured them (at most 64 + a `[dropped N log lines]` line, 1024 bytes each). */
  logs: string[];
  /** Trap detail (`TrapInfo` of @jam/sandbox: kind, message, frames) when the item ended `panic` or `out_of_gas`. */
  trap: { kind: string; message: string; frames: { function: number; offset: number }[] } | null;
}

/** Row of `work_report`: one distinct report produced for a package. */
@Entity({ name: 'work_report' })
export class WorkReportEntity {
  /** Report hash, 32 bytes: Blake2b-256 of the GP encoding (hash format 2) or the legacy rule (format 1), docs/architecture.md section 6. */
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  @Column({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  /** The WorkReport in GP 0.7.2 binary encoding. */
  @Column({ type: 'bytea' })
  encoded!: Buffer;

  /** Engine identity string (name, version, cost-table version) the report was made with. */
  @Column({ type: 'text' })
  engine!: string;

  /** Per work item: the guest's log lines and trap detail; null for reports made before engine logs were kept. */
  @Column({ type: 'jsonb', name: 'guest_log', nullable: true })
  guestLog!: GuestLogEntry[] | null;
  /** Which rule `reportHash` follows: 1 legacy (engine identity appended), 2 GP H(E(report)) (migration 1768000000000). */
  @Column({ type: 'smallint', name: 'hash_format' })
  hashFormat!: number;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
