import { Column, Entity, PrimaryColumn } from 'typeorm';

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

  /** Which rule `reportHash` follows: 1 legacy (engine identity appended), 2 GP H(E(report)) (migration 1768000000000). */
  @Column({ type: 'smallint', name: 'hash_format' })
  hashFormat!: number;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
