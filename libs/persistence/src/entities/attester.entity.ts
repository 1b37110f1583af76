import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `attester`: a registered attester (our name for a GP guarantor). */
@Entity({ name: 'attester' })
export class AttesterEntity {
  @PrimaryColumn({ type: 'integer' })
  index!: number;

  /** Ed25519 public key, 32 bytes, unique. */
  @Column({ type: 'bytea', name: 'public_key', unique: true })
  publicKey!: Buffer;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
