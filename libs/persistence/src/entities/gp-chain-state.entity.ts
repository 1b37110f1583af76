import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's row of `gp_chain_state`: τ, η'_0, privileges, last output root and the compare-and-set version. (migration 1770500000000) */
@Entity({ name: 'gp_chain_state' })
export class GpChainStateEntity {
  /** The tenant (`service.owner`): one GP state per owner. */
  @PrimaryColumn({ type: 'text', name: 'owner' })
  owner!: string;

  @Column({ type: 'bigint', name: 'slot' })
  slot!: string;

  @Column({ type: 'bytea', name: 'entropy' })
  entropy!: Buffer;

  @Column({ type: 'jsonb', name: 'privileges' })
  privileges!: unknown;

  @Column({ type: 'bytea', name: 'output_root' })
  outputRoot!: Buffer;

  @Column({ type: 'bigint', name: 'version' })
  version!: string;
}
