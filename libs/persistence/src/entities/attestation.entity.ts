import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `attestation`: one attester's signature over one report hash. */
@Entity({ name: 'attestation' })
export class AttestationEntity {
  @PrimaryColumn({ type: 'bytea', name: 'report_hash' })
  reportHash!: Buffer;

  @PrimaryColumn({ type: 'integer', name: 'attester_index' })
  attesterIndex!: number;

  @Column({ type: 'bytea', name: 'package_hash' })
  packageHash!: Buffer;

  /** Ed25519 signature over `"jam_guarantee" ++ report_hash`, 64 bytes. */
  @Column({ type: 'bytea' })
  signature!: Buffer;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
