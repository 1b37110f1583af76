import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The one row of `store_identity`: this database's store id, written into the marker of every
 * blob store the deployment opens (see `StoreIdentityRepository`).
 * Schema owner: migrations/1763000000000-store-identity.ts.
 */
@Entity({ name: 'store_identity' })
export class StoreIdentityEntity {
  /** Always true: the primary key that allows one row only. */
  @PrimaryColumn({ type: 'boolean' })
  singleton!: boolean;

  @Column({ type: 'uuid', name: 'store_id' })
  storeId!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
