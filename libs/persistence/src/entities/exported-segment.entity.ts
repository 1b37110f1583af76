import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Row of `exported_segment` (migration 1768000000000): one segment a stored report exports,
 * GP W_G = 4104 bytes, addressed by (segments root, index) or (package hash, index). Deleted with
 * its report.
 */
@Entity({ name: 'exported_segment' })
@Index('exported_segment_root_idx', ['segmentsRoot', 'segmentIndex'])
@Index('exported_segment_package_idx', ['packageHash', 'segmentIndex'])
export class ExportedSegmentEntity {
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  /** Index of the segment among the report's exports (0..3071, GP W_X). */
  @PrimaryColumn({ type: 'integer', name: 'segment_index' })
  segmentIndex!: number;

  @Column({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  /** The report's exports root (GP constant-depth Merkle root, appendix E eq. E.4), 32 bytes. */
  @Column({ type: 'bytea', name: 'segments_root' })
  segmentsRoot!: Buffer;

  /** The segment, 4104 bytes. */
  @Column({ type: 'bytea' })
  data!: Buffer;
}
