import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Row of `service`: a registered JAM service whose code is a preimage.
 * `id` comes from an identity sequence starting at 1 (a u32 service id, GP 0.7.2 `N_S`).
 */
@Entity({ name: 'service' })
export class ServiceEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  /** Blake2b-256 of the service code preimage, 32 bytes. */
  @Column({ type: 'bytea', name: 'code_hash' })
  codeHash!: Buffer;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'text', array: true })
  delegates!: string[];

  /** Gas (u64) as a decimal string. */
  @Column({ type: 'bigint', name: 'min_item_gas' })
  minItemGas!: string;

  /** Gas (u64) as a decimal string. */
  @Column({ type: 'bigint', name: 'min_memo_gas' })
  minMemoGas!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /**
   * Moved by every statement that changes the service's storage (triggers of migration
   * 1770400000000): accumulate's compare-and-set after a sandbox run outside the row lock. A bigint
   * as a decimal string.
   */
  @Column({ type: 'bigint', name: 'state_version', default: 0 })
  stateVersion!: string;
}
