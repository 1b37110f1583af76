import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_accumulate_statistics`: a service's digests accumulated and gas used in the last GP accumulation. (migration 1770500000000) */
@Entity({ name: 'gp_accumulate_statistics' })
export class GpAccumulateStatisticsEntity {
  /** The tenant (`service.owner`) whose GP state this row belongs to. */
  @PrimaryColumn({ type: 'text', name: 'owner' })
  owner!: string;

  @PrimaryColumn({ type: 'bigint', name: 'service_id' })
  serviceId!: string;

  @Column({ type: 'bigint', name: 'count' })
  count!: string;

  @Column({ type: 'numeric', name: 'gas_used', precision: 20, scale: 0 })
  gasUsed!: string;
}
