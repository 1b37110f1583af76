import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `principal_quota`: an admin override of one principal's quotas; null = the global setting. */
@Entity({ name: 'principal_quota' })
export class PrincipalQuotaEntity {
  @PrimaryColumn({ type: 'text' })
  principal!: string;

  @Column({ type: 'integer', name: 'max_pending_packages', nullable: true })
  maxPendingPackages!: number | null;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;
}
