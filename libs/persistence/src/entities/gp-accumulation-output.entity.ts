import { Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_accumulation_output`: a (service, yield) pair of the last GP accumulation. (migration 1770500000000) */
@Entity({ name: 'gp_accumulation_output' })
export class GpAccumulationOutputEntity {
  /** The tenant (`service.owner`) whose GP state this row belongs to. */
  @PrimaryColumn({ type: 'text', name: 'owner' })
  owner!: string;

  @PrimaryColumn({ type: 'bigint', name: 'service_id' })
  serviceId!: string;

  @PrimaryColumn({ type: 'bytea', name: 'hash' })
  hash!: Buffer;
}
