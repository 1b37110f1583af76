import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_preimage_request`: a preimage request of a GP service account (a_l), up to 3 timeslots. (migration 1770500000000) */
@Entity({ name: 'gp_preimage_request' })
export class GpPreimageRequestEntity {
  @PrimaryColumn({ type: 'bigint', name: 'service_id' })
  serviceId!: string;

  @PrimaryColumn({ type: 'bytea', name: 'hash' })
  hash!: Buffer;

  @PrimaryColumn({ type: 'bigint', name: 'length' })
  length!: string;

  @Column({ type: 'bigint', name: 'slots', array: true })
  slots!: string[];
}
