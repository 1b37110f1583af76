import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `principal_quota`: an admin override of one principal's quotas; null = the global setting. */
@Entity({ name: 'principal_quota' })
export class PrincipalQuotaEntity {
  @PrimaryColumn({ type: 'text' })
  principal!: string;

  @Column({ type: 'integer', name: 'max_pending_packages', nullable: true })
  maxPendingPackages!: number | null;

  /** Schema owner: migrations/1766600000000-upload-quotas-and-corrupt-blobs.ts. */
  @Column({ type: 'integer', name: 'max_concurrent_uploads', nullable: true })
  maxConcurrentUploads!: number | null;

  /** Bytes; int8 arrives from `pg` as a decimal string. */
  @Column({ type: 'bigint', name: 'max_stored_preimage_bytes', nullable: true })
  maxStoredPreimageBytes!: string | null;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
