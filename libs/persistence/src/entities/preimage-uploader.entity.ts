import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `preimage_uploader`: one principal that uploaded a preimage's bytes (any number per preimage). */
@Entity({ name: 'preimage_uploader' })
export class PreimageUploaderEntity {
  /** Blake2b-256 of the preimage, 32 bytes. */
  @PrimaryColumn({ type: 'bytea' })
  hash!: Buffer;

  @PrimaryColumn({ type: 'text' })
  principal!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
