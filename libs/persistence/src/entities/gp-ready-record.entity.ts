import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_ready_record`: a GP-encoded report waiting in ready-queue slot `slot_index` (ϑ) for its dependencies. (migration 1770500000000) */
@Entity({ name: 'gp_ready_record' })
export class GpReadyRecordEntity {
  /** The tenant (`service.owner`) whose GP state this row belongs to. */
  @PrimaryColumn({ type: 'text', name: 'owner' })
  owner!: string;

  @PrimaryColumn({ type: 'integer', name: 'slot_index' })
  slotIndex!: number;

  @PrimaryColumn({ type: 'integer', name: 'position' })
  position!: number;

  @Column({ type: 'bytea', name: 'report' })
  report!: Buffer;

  @Column({ type: 'bytea', name: 'dependencies', array: true })
  dependencies!: Buffer[];
}
