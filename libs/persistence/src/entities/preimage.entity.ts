import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where a preimage's bytes live; the blob store decides, this row records it. */
export type PreimageStorageTier = 'fs' | 'db' | 's3';

/**
 * Row of `preimage`: metadata of one content-addressed blob (the bytes live in the blob store).
 * Schema owner: migrations/1760000000000-initial-schema.ts.
 */
@Entity({ name: 'preimage' })
export class PreimageEntity {
  /** Blake2b-256 of the bytes, 32 bytes. */
  @PrimaryColumn({ type: 'bytea' })
  hash!: Buffer;

  /** Length in bytes; int8 arrives from `pg` as a decimal string. */
  @Column({ type: 'bigint' })
  length!: string;

  /** Services using the preimage as code (incremented at registration). Package references live in `work_package_preimage`; GC deletes only when both are zero. */
  @Column({ type: 'integer', default: 0 })
  refcount!: number;

  @Column({ type: 'text', name: 'storage_tier' })
  storageTier!: PreimageStorageTier;

  @Column({ type: 'text', name: 'uploaded_by' })
  uploadedBy!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** When the bytes were last uploaded (every PUT touches it); the GC grace period counts from here. Schema owner: migrations/1762000000000-storage-retention.ts. */
  @Column({ type: 'timestamptz', name: 'last_uploaded_at' })
  lastUploadedAt!: Date;

  /** When a verified download last found the bytes corrupt; null = never, or repaired by a later PUT. Schema owner: migrations/1766600000000-upload-quotas-and-corrupt-blobs.ts. */
  @Column({ type: 'timestamptz', name: 'corrupt_at', nullable: true })
  corruptAt!: Date | null;
}
