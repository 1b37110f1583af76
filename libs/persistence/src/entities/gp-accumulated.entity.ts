import { Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_accumulated`: a package hash in accumulated-history slot `slot_index` (ξ). (migration 1770500000000) */
@Entity({ name: 'gp_accumulated' })
export class GpAccumulatedEntity {
  /** The tenant (`service.owner`) whose GP state this row belongs to. */
  @PrimaryColumn({ type: 'text', name: 'owner' })
  owner!: string;

  @PrimaryColumn({ type: 'integer', name: 'slot_index' })
  slotIndex!: number;

  @PrimaryColumn({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;
}
