import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `work_report`: one distinct report produced for a package. */
@Entity({ name: 'work_report' })
export class WorkReportEntity {
  /** Report hash (covers the GP report and the engine identity, docs/architecture.md section 6), 32 bytes. */
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

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
