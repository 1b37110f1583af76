import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `service_storage`: one key/value of a service's accumulated state. */
@Entity({ name: 'service_storage' })
export class ServiceStorageEntity {
  @PrimaryColumn({ type: 'integer', name: 'service_id' })
  serviceId!: number;

  @PrimaryColumn({ type: 'bytea' })
  key!: Buffer;

  @Column({ type: 'bytea' })
  value!: Buffer;
}
