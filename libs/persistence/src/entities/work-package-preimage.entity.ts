import { Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `work_package_preimage`: a stored package references a preimage as an extrinsic, which
 * keeps the preimage from the GC until the package is deleted (retention cascades the row).
 * Schema owner: migrations/1762000000000-storage-retention.ts.
 */
@Entity({ name: 'work_package_preimage' })
export class WorkPackagePreimageEntity {
  @PrimaryColumn({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  @PrimaryColumn({ type: 'bytea', name: 'preimage_hash' })
  preimageHash!: Buffer;
}
