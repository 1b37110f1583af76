import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `gp_preimage`: a preimage of a GP service account (a_p), by Blake2b-256 hash. (migration 1770500000000) */
@Entity({ name: 'gp_preimage' })
export class GpPreimageEntity {
  @PrimaryColumn({ type: 'bigint', name: 'service_id' })
  serviceId!: string;

  @PrimaryColumn({ type: 'bytea', name: 'hash' })
  hash!: Buffer;

  @Column({ type: 'bytea', name: 'blob' })
  blob!: Buffer;
}
