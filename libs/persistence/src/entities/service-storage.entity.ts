import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `service_storage`: one key/value of a service's accumulated state. `service_id` is a u32
 * (bigint since migration 1770500000000: GP `new` creates accounts that are not `service` rows).
 */
@Entity({ name: 'service_storage' })
export class ServiceStorageEntity {
  /** A bigint as a decimal string. */
  @PrimaryColumn({ type: 'bigint', name: 'service_id' })
  serviceId!: string;

  @PrimaryColumn({ type: 'bytea' })
  key!: Buffer;

  @Column({ type: 'bytea' })
  value!: Buffer;
}
